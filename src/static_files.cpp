// static_files.cpp — see static_files.h.
#include "sse/static_files.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "sse/http_parser.h"
#include "sse/router.h"

namespace sse {

namespace {

// A file is read whole into one Frame: fine for a demo page and its assets.
// Serving large files would want sendfile(2) and a per-connection cursor.
constexpr size_t kMaxFileSize = 64 << 20;

int open_beneath(int directory, const std::string& relative) {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, directory, relative.c_str(), &how, sizeof how));
}

}  // namespace

bool StaticFiles::open(const std::string& directory, std::string& error) {
  directory_.reset(::open(directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!directory_) {
    error = "--www: cannot open directory " + directory + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

StaticFile StaticFiles::load(std::string_view url_path, bool want_body) const {
  StaticFile file;
  std::string relative;
  if (!percent_decode(url_path, relative) || relative.empty() || relative[0] != '/') {
    file.status = 400;
    return file;
  }
  relative.erase(0, 1);  // openat2 wants a relative path; RESOLVE_BENEATH rejects "/x"
  if (relative.empty() || relative.back() == '/') relative += "index.html";

  UniqueFd fd(open_beneath(directory_.get(), relative));
  struct stat info{};
  if (!fd || ::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    file.status = 404;  // missing, outside --www, a directory, a device...
    return file;
  }
  if (static_cast<size_t>(info.st_size) > kMaxFileSize) {
    file.status = 500;
    return file;
  }
  file.size = static_cast<size_t>(info.st_size);
  file.mime = mime_type(relative);
  file.status = 200;
  if (!want_body) return file;

  file.body = FrameRef::allocate(file.size);
  size_t done = 0;
  while (done < file.size) {
    ssize_t n = ::pread(fd.get(), file.body.writable() + done, file.size - done,
                        static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      file.status = 500;  // the file shrank or the disk failed under us
      file.body = FrameRef();
      return file;
    }
    done += static_cast<size_t>(n);
  }
  return file;
}

std::string_view mime_type(std::string_view filename) {
  struct Mime {
    std::string_view extension;
    std::string_view type;
  };
  static constexpr Mime kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".xml", "application/xml"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".avif", "image/avif"},
      {".ico", "image/x-icon"},
      {".wasm", "application/wasm"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".pdf", "application/pdf"},
  };
  size_t dot = filename.rfind('.');
  if (dot != std::string_view::npos && filename.find('/', dot) == std::string_view::npos) {
    std::string_view extension = filename.substr(dot);
    for (const Mime& mime : kTypes) {
      if (equals_ignore_case(extension, mime.extension)) return mime.type;
    }
  }
  return "application/octet-stream";
}

}  // namespace sse

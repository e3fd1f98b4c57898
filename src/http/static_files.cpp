// static_files.cpp — see static_files.h.
#include "sse/http/static_files.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <ctime>

#include "sse/http/http_parser.h"
#include "sse/http/router.h"
#include "sse/http/ascii.h"
#include "sse/http/url.h"

namespace sse {

namespace {

// A file is read whole into one Frame: fine for a demo page and its assets.
// Serving large files would want sendfile(2) and a per-connection cursor.
constexpr size_t kMaxFileSize = 16 << 20;
constexpr size_t kMaxCacheBytes = 64 << 20;

// Reads `size` bytes of `fd` into a new Frame; empty if it could not.
FrameRef read_whole(int fd, size_t size) {
  FrameRef body = FrameRef::allocate(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, body.writable() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return FrameRef();  // the file shrank or the disk failed under us
    done += static_cast<size_t>(n);
  }
  return body;
}

// The same contents, as far as the file system can tell.
bool same_version(const struct stat& a, const struct stat& b) {
  return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

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

StaticFile StaticFiles::load(std::string_view url_path, bool want_body) {
  StaticFile file;
  std::string relative;
  if (!percent_decode(url_path, relative) || relative.empty() || relative[0] != '/') {
    file.status = 400;
    return file;
  }
  relative.erase(0, 1);  // openat2 wants a relative path; RESOLVE_BENEATH rejects "/x"
  if (relative.empty() || relative.back() == '/') relative += "index.html";

  UniqueFd fd(open_beneath(directory_.get(), relative));
  if (!fd && (errno == EMFILE || errno == ENFILE)) {
    file.status = 503;  // the file may well exist: never tell the client it does not
    return file;
  }
  struct stat info {};
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
  file.body = cached_body(fd.get(), info);
  if (!file.body && file.size > 0) file.status = 500;
  return file;
}

FrameRef StaticFiles::cached_body(int fd, const struct stat& info) {
  // Keyed by the file, not by the URL: "/a.css", "/./a.css" and "/x/../a.css"
  // are one entry, so the cache holds at most one copy of each file.
  FileKey key{info.st_dev, info.st_ino};
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    if (same_version(it->second.info, info)) return it->second.body;
    cache_bytes_ -= it->second.body->size();  // changed on disk: read it again
    cache_.erase(it);
  }
  FrameRef body = read_whole(fd, static_cast<size_t>(info.st_size));
  if (!body) return body;
  // Cache only a copy known to be whole: the file did not change while we
  // read it, and its last change is over a second old (a writer still at
  // work within the mtime's granularity would otherwise leave us a torn
  // copy that looks current). Otherwise this copy serves this request only.
  struct stat after {};
  bool settled = ::fstat(fd, &after) == 0 && same_version(info, after) &&
                 info.st_mtim.tv_sec + 1 < ::time(nullptr);
  if (!settled) return body;
  if (cache_bytes_ + body->size() > kMaxCacheBytes) {
    cache_.clear();  // frames still queued to clients live on by reference
    cache_bytes_ = 0;
  }
  cache_.emplace(key, Cached{info, body});
  cache_bytes_ += body->size();
  return body;
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

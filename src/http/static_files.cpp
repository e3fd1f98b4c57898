// static_files.cpp — see static_files.h.
#include "sse/http/static_files.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>

#include "sse/http/ascii.h"
#include "sse/http/http_parser.h"
#include "sse/http/router.h"
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

// Resolves `relative` beneath `directory` and opens it with `flags`.
int open_beneath(int directory, const std::string& relative, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, directory, relative.c_str(), &how, sizeof how));
}

// Opens for reading the regular file that `path_fd` (O_PATH) refers to.
// /proc/self/fd/N names that inode itself, not a path that could have been
// replaced since it was checked. Without /proc (a bare chroot), the path is
// resolved again and the result must be the same inode, still a regular
// file; in that fallback a FIFO swapped in at that instant by someone who
// can write to --www would be opened (O_NONBLOCK: it cannot block the
// loop) and then refused.
UniqueFd reopen_for_reading(int path_fd, int directory, const std::string& relative,
                            const struct stat& checked) {
  constexpr uint64_t kRead = O_RDONLY | O_NOCTTY | O_NONBLOCK;
  std::string self = "/proc/self/fd/" + std::to_string(path_fd);
  UniqueFd reader(::open(self.c_str(), static_cast<int>(kRead | O_CLOEXEC)));
  if (reader || errno != ENOENT) return reader;
  reader.reset(open_beneath(directory, relative, kRead));
  struct stat info {};
  if (reader && (::fstat(reader.get(), &info) != 0 || !S_ISREG(info.st_mode) ||
                 info.st_dev != checked.st_dev || info.st_ino != checked.st_ino)) {
    reader.reset();
    errno = ENOENT;
  }
  return reader;
}

std::string hex(uint64_t value) {
  char text[17];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value, 16);
  (void)ec;  // 16 hex digits always fit
  return std::string(text, end);
}

// W/"<inode>-<size>-<mtime s>.<mtime ns>": weak, because it is derived
// from stat, not from the bytes (see static_files.h).
std::string entity_tag(const struct stat& info) {
  return "W/\"" + hex(info.st_ino) + "-" + hex(static_cast<uint64_t>(info.st_size)) + "-" +
         hex(static_cast<uint64_t>(info.st_mtim.tv_sec)) + "." +
         hex(static_cast<uint64_t>(info.st_mtim.tv_nsec)) + "\"";
}

// RFC 9110 §13.2.2: If-None-Match first; If-Modified-Since only without it.
bool not_modified(const FileConditions& conditions, const StaticFile& file) {
  if (!conditions.if_none_match.empty()) {
    return etag_list_matches(conditions.if_none_match, file.etag);
  }
  int64_t since = 0;
  if (conditions.if_modified_since.empty() ||
      !parse_http_date(conditions.if_modified_since, since)) {
    return false;  // §13.1.3: an invalid date is ignored
  }
  return file.last_modified <= since;
}

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_ows(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_ows(text.back())) text.remove_suffix(1);
  return text;
}

// `count` decimal digits at `pos` (a leading space allowed when `padded`).
bool digits(std::string_view text, size_t pos, size_t count, int& out, bool padded = false) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (size_t i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (padded && i == 0 && c == ' ') continue;
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

// "hh:mm:ss" at `pos`.
bool clock_time(std::string_view text, size_t pos, struct tm& out) {
  return digits(text, pos, 2, out.tm_hour) && text[pos + 2] == ':' &&
         digits(text, pos + 3, 2, out.tm_min) && text[pos + 5] == ':' &&
         digits(text, pos + 6, 2, out.tm_sec);
}

// "Jan".."Dec" (case-sensitive, RFC 9110 §5.6.7) at `pos`, as 0..11.
bool month(std::string_view text, size_t pos, int& out) {
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  if (pos + 3 > text.size()) return false;
  size_t at = kMonths.find(text.substr(pos, 3));
  if (at == std::string_view::npos || at % 3 != 0) return false;
  out = static_cast<int>(at / 3);
  return true;
}

bool day_name(std::string_view name, bool full) {
  static constexpr std::string_view kShort[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view kFull[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                               "Friday", "Saturday", "Sunday"};
  for (int i = 0; i < 7; ++i) {
    if (name == (full ? kFull[i] : kShort[i])) return true;
  }
  return false;
}

}  // namespace

bool parse_http_date(std::string_view text, int64_t& seconds) {
  struct tm parts {};
  int year = 0;
  size_t comma = text.find(',');
  if (comma == 3) {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    if (text.size() != 29 || !day_name(text.substr(0, 3), false) || text[4] != ' ' ||
        !digits(text, 5, 2, parts.tm_mday) || text[7] != ' ' || !month(text, 8, parts.tm_mon) ||
        text[11] != ' ' || !digits(text, 12, 4, year) || text[16] != ' ' ||
        !clock_time(text, 17, parts) || text.substr(25) != " GMT") {
      return false;
    }
  } else if (comma != std::string_view::npos) {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". A two-digit year below 70
    // is taken as 20yy: the pivot curl and most clients use.
    std::string_view rest = text.substr(comma + 1);
    if (!day_name(text.substr(0, comma), true) || rest.size() != 23 || rest[0] != ' ' ||
        !digits(rest, 1, 2, parts.tm_mday) || rest[3] != '-' || !month(rest, 4, parts.tm_mon) ||
        rest[7] != '-' || !digits(rest, 8, 2, year) || rest[10] != ' ' ||
        !clock_time(rest, 11, parts) || rest.substr(19) != " GMT") {
      return false;
    }
    year += year < 70 ? 2000 : 1900;
  } else {
    // asctime: "Sun Nov  6 08:49:37 1994"
    if (text.size() != 24 || !day_name(text.substr(0, 3), false) || text[3] != ' ' ||
        !month(text, 4, parts.tm_mon) || text[7] != ' ' ||
        !digits(text, 8, 2, parts.tm_mday, true) || text[10] != ' ' ||
        !clock_time(text, 11, parts) || text[19] != ' ' || !digits(text, 20, 4, year)) {
      return false;
    }
  }
  // Seconds may be 60 (a leap second); no day 0, no hour 24.
  if (parts.tm_mday < 1 || parts.tm_hour > 23 || parts.tm_min > 59 || parts.tm_sec > 60 ||
      year < 1900) {
    return false;
  }
  parts.tm_year = year - 1900;
  const int mday = parts.tm_mday, mon = parts.tm_mon;
  time_t value = ::timegm(&parts);  // normalizes: "31 Feb" would become 3 March
  if (value == static_cast<time_t>(-1) || parts.tm_mday != mday || parts.tm_mon != mon) {
    return false;
  }
  seconds = static_cast<int64_t>(value);
  return true;
}

bool etag_list_matches(std::string_view field, std::string_view etag) {
  auto opaque = [](std::string_view tag) { return tag.substr(0, 2) == "W/" ? tag.substr(2) : tag; };
  const std::string_view ours = opaque(etag);
  field = trim(field);
  if (field == "*") return true;  // any current version of the file
  size_t i = 0;
  while (i < field.size()) {
    // #entity-tag: empty members and OWS around commas are allowed (RFC 9110 §5.6.1).
    if (field[i] == ',' || is_ows(field[i])) {
      ++i;
      continue;
    }
    if (field.substr(i, 2) == "W/") i += 2;
    if (i >= field.size() || field[i] != '"') return false;
    size_t close = field.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    if (field.substr(i, close + 1 - i) == ours) return true;
    i = close + 1;
    while (i < field.size() && is_ows(field[i])) ++i;
    if (i < field.size() && field[i] != ',') return false;
  }
  return false;
}

bool StaticFiles::open(const std::string& directory, std::string& error) {
  directory_.reset(::open(directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!directory_) {
    error = "--www: cannot open directory " + directory + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

StaticFile StaticFiles::load(std::string_view url_path, bool want_body,
                             const FileConditions& conditions) {
  StaticFile file;
  if (!directory_) {  // --www none, or no ./www: nothing to serve
    file.status = 404;
    return file;
  }
  std::string relative;
  if (!percent_decode(url_path, relative) || relative.empty() || relative[0] != '/') {
    file.status = 400;
    return file;
  }
  relative.erase(0, 1);  // openat2 wants a relative path; RESOLVE_BENEATH rejects "/x"
  if (relative.empty() || relative.back() == '/') relative += "index.html";

  // O_PATH: the name is resolved (and contained) but the file is not
  // opened, so a FIFO's writer is not woken and a device's driver not run.
  UniqueFd path_fd(open_beneath(directory_.get(), relative, O_PATH));
  auto out_of_descriptors = [] { return errno == EMFILE || errno == ENFILE; };
  if (!path_fd && out_of_descriptors()) {
    file.status = 503;  // the file may well exist: never tell the client it does not
    return file;
  }
  struct stat info {};
  if (!path_fd || ::fstat(path_fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    file.status = 404;  // missing, outside --www, a directory, a FIFO, a device...
    return file;
  }
  if (static_cast<size_t>(info.st_size) > kMaxFileSize) {
    file.status = 500;
    return file;
  }

  // A cached copy of this version proves the file was readable; otherwise
  // it is opened now, even for HEAD or a 304, so that those answer exactly
  // as a GET would (an unreadable file is 404 to all three).
  FrameRef body = cached_body(info);
  UniqueFd reader;
  if (!body) {
    reader = reopen_for_reading(path_fd.get(), directory_.get(), relative, info);
    if (!reader) {
      file.status = out_of_descriptors() ? 503 : 404;
      return file;
    }
  }

  file.size = static_cast<size_t>(info.st_size);
  file.mime = mime_type(relative);
  file.etag = entity_tag(info);
  // RFC 9110 §8.8.2.1: never a Last-Modified later than the response's Date.
  file.last_modified =
      std::min<int64_t>(static_cast<int64_t>(info.st_mtim.tv_sec), ::time(nullptr));
  if (not_modified(conditions, file)) {
    file.status = 304;
    return file;
  }
  file.status = 200;
  if (!want_body) return file;
  file.body = body ? std::move(body) : read_body(reader.get(), info);
  if (!file.body && file.size > 0) file.status = 500;
  return file;
}

FrameRef StaticFiles::cached_body(const struct stat& info) {
  // Keyed by the file, not by the URL: "/a.css", "/./a.css" and "/x/../a.css"
  // are one entry, so the cache holds at most one copy of each file.
  auto it = cache_.find(FileKey{info.st_dev, info.st_ino});
  if (it == cache_.end()) return FrameRef();
  if (same_version(it->second.info, info)) return it->second.body;
  cache_bytes_ -= it->second.body->size();  // changed on disk: read it again
  cache_.erase(it);
  return FrameRef();
}

FrameRef StaticFiles::read_body(int reader, const struct stat& info) {
  FrameRef body = read_whole(reader, static_cast<size_t>(info.st_size));
  if (!body) return body;
  // Cache only a copy known to be whole: the file did not change while we
  // read it, and its last change is over a second old (a writer still at
  // work within the mtime's granularity would otherwise leave us a torn
  // copy that looks current). Otherwise this copy serves this request only.
  struct stat after {};
  bool settled = ::fstat(reader, &after) == 0 && same_version(info, after) &&
                 info.st_mtim.tv_sec + 1 < ::time(nullptr);
  if (!settled) return body;
  if (cache_bytes_ + body->size() > kMaxCacheBytes) {
    cache_.clear();  // frames still queued to clients live on by reference
    cache_bytes_ = 0;
  }
  cache_.emplace(FileKey{info.st_dev, info.st_ino}, Cached{info, body});
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

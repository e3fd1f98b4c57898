// static_files.h — files under --www, and nothing outside it.
//
// The static file handler (answer_static in server/plain_routes.cpp) asks
// load() for a URL path and gets a status, a MIME type and the file's bytes
// as a Frame. Containment is the kernel's job, not a
// string check: the directory is opened once, and every file is opened
// relative to it with openat2(RESOLVE_BENEATH), which fails for "..",
// absolute paths and symlinks that lead out of the directory, however they
// are spelled or encoded (Linux 5.6+). The URL path is percent-decoded
// first; a decoded NUL, or a name that is not a regular file, is refused.
//
// Bodies are cached, keyed by the file (device and inode, however the URL
// spells its path) and checked against its size and modification time on
// every request: every connection fetching the same file shares one Frame,
// as subscribers share an event, so memory does not grow with the number of
// clients. The cache is bounded (kMaxCacheBytes); when it is full it is
// emptied and refilled.
#pragma once

#include <sys/stat.h>

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "sse/loop/frame.h"
#include "sse/loop/unique_fd.h"

namespace sse {

struct StaticFile {
  int status = 404;  // 200, 400, 404, 500, or 503 when out of descriptors
  std::string_view mime;
  size_t size = 0;
  FrameRef body;  // empty for HEAD and errors
};

class StaticFiles {
 public:
  // Opens the directory. False (with `error`) if it is missing.
  bool open(const std::string& directory, std::string& error);
  StaticFile load(std::string_view url_path, bool want_body);

  size_t cached_files() const { return cache_.size(); }  // for tests

 private:
  using FileKey = std::pair<dev_t, ino_t>;
  struct Cached {
    struct stat info;  // size and mtime tell whether the file changed since
    FrameRef body;
  };
  FrameRef cached_body(int fd, const struct stat& info);

  UniqueFd directory_;
  std::map<FileKey, Cached> cache_;
  size_t cache_bytes_ = 0;
};

// MIME type by file extension (case-insensitive); octet-stream if unknown.
std::string_view mime_type(std::string_view filename);

}  // namespace sse

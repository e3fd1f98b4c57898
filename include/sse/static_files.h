// static_files.h — files under --www, and nothing outside it.
//
// The connection asks load() for a URL path and gets a status, a MIME type
// and the file's bytes as a Frame. Containment is the kernel's job, not a
// string check: the directory is opened once, and every file is opened
// relative to it with openat2(RESOLVE_BENEATH), which fails for "..",
// absolute paths and symlinks that lead out of the directory, however they
// are spelled or encoded (Linux 5.6+). The URL path is percent-decoded
// first; a decoded NUL, or a name that is not a regular file, is refused.
//
// Bodies are cached, keyed by path and checked against the file's inode,
// size and modification time on every request: every connection fetching
// the same file shares one Frame, as subscribers share an event, so memory
// does not grow with the number of clients. The cache is bounded
// (kMaxCacheBytes); when it is full it is emptied and refilled.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>
#include <unordered_map>

#include "sse/frame.h"
#include "sse/unique_fd.h"

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

 private:
  struct Cached {
    dev_t device;
    ino_t inode;
    off_t size;
    timespec modified;
    FrameRef body;
  };
  FrameRef cached_body(const std::string& relative, int fd, const struct stat& info);

  UniqueFd directory_;
  std::unordered_map<std::string, Cached> cache_;
  size_t cache_bytes_ = 0;
};

// MIME type by file extension (case-insensitive); octet-stream if unknown.
std::string_view mime_type(std::string_view filename);

}  // namespace sse

// static_files.h — files under --www, and nothing outside it.
//
// The static file handler (answer_static in server/plain_routes.cpp) asks
// load() for a URL path and gets a status, a MIME type, the file's
// validators and its bytes as a Frame. Containment is the kernel's job, not
// a string check: the directory is opened once, and every file is opened
// relative to it with openat2(RESOLVE_BENEATH), which fails for "..",
// absolute paths and symlinks that lead out of the directory, however they
// are spelled or encoded (Linux 5.6+). The URL path is percent-decoded
// first; a decoded NUL is refused.
//
// Only regular files are ever opened for reading. The name is first opened
// O_PATH, which resolves it without opening the file itself (no FIFO
// rendezvous, no device driver's open), and its type is read with fstat;
// a directory, FIFO, socket or device node is answered 404, as if missing
// (a client learns nothing about what else lies under --www). A regular
// file is then reopened for reading through /proc/self/fd, which names the
// very inode just checked, so nothing can be swapped in between.
//
// Bodies are cached, keyed by the file (device and inode, however the URL
// spells its path) and checked against its size and modification time on
// every request: every connection fetching the same file shares one Frame,
// as subscribers share an event, so memory does not grow with the number of
// clients. The cache is bounded (kMaxCacheBytes); when it is full it is
// emptied and refilled. A cached file is answered without being reopened.
//
// Validators (RFC 9110 §8.8): the ETag is weak, W/"<inode>-<size>-<mtime
// seconds>.<mtime nanoseconds>" in hex, because it is derived from what
// stat says, not from the bytes (a file rewritten within one timestamp tick
// would keep it). Last-Modified is the mtime, capped at the current second.
// A request whose If-None-Match matches (weak comparison, RFC 9110
// §13.1.2), or that has no If-None-Match and an If-Modified-Since no older
// than the file (§13.1.3), gets 304 and no body.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "sse/loop/frame.h"
#include "sse/loop/unique_fd.h"

namespace sse {

struct StaticFile {
  int status = 404;  // 200, 304, 400, 404, 500, or 503 when out of descriptors
  std::string_view mime;
  size_t size = 0;
  FrameRef body;              // empty for HEAD, 304 and errors
  std::string etag;           // 200 and 304: the entity tag, quotes and W/ included
  int64_t last_modified = 0;  // 200 and 304: seconds since the epoch, for http_date()
};

// The request's conditional headers (empty when absent), RFC 9110 §13.1.
struct FileConditions {
  std::string_view if_none_match;
  std::string_view if_modified_since;
};

class StaticFiles {
 public:
  // Opens the directory. False (with `error`) if it is missing.
  bool open(const std::string& directory, std::string& error);
  StaticFile load(std::string_view url_path, bool want_body, const FileConditions& conditions = {});

  size_t cached_files() const { return cache_.size(); }  // for tests

 private:
  using FileKey = std::pair<dev_t, ino_t>;
  struct Cached {
    struct stat info;  // size and mtime tell whether the file changed since
    FrameRef body;
  };
  // The cached copy of this version of the file, or empty.
  FrameRef cached_body(const struct stat& info);
  // Reads the file from `reader` and caches the copy if it is settled.
  FrameRef read_body(int reader, const struct stat& info);

  UniqueFd directory_;
  std::map<FileKey, Cached> cache_;
  size_t cache_bytes_ = 0;
};

// True when the If-None-Match value `field` lists `etag` (weak comparison:
// W/ is ignored on both sides) or is "*". A malformed list matches nothing,
// so the client simply gets the whole file.
bool etag_list_matches(std::string_view field, std::string_view etag);

// Parses an HTTP-date (RFC 9110 §5.6.7) in any of its three forms:
// IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850
// "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37 1994".
bool parse_http_date(std::string_view text, int64_t& seconds);

// MIME type by file extension (case-insensitive); octet-stream if unknown.
std::string_view mime_type(std::string_view filename);

}  // namespace sse

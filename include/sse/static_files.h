// static_files.h — files under --www, and nothing outside it.
//
// The connection asks load() for a URL path and gets a status, a MIME type
// and the file's bytes as a Frame. Containment is the kernel's job, not a
// string check: the directory is opened once, and every file is opened
// relative to it with openat2(RESOLVE_BENEATH), which fails for "..",
// absolute paths and symlinks that lead out of the directory, however they
// are spelled or encoded (Linux 5.6+). The URL path is percent-decoded
// first; a decoded NUL, or a name that is not a regular file, is refused.
#pragma once

#include <string>
#include <string_view>

#include "sse/frame.h"
#include "sse/unique_fd.h"

namespace sse {

struct StaticFile {
  int status = 404;  // 200, 400, 404 or 500
  std::string_view mime;
  size_t size = 0;
  FrameRef body;  // empty for HEAD and errors
};

class StaticFiles {
 public:
  // Opens the directory. False (with `error`) if it is missing.
  bool open(const std::string& directory, std::string& error);
  StaticFile load(std::string_view url_path, bool want_body) const;

 private:
  UniqueFd directory_;
};

// MIME type by file extension (case-insensitive); octet-stream if unknown.
std::string_view mime_type(std::string_view filename);

}  // namespace sse

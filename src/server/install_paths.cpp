// install_paths.cpp — the installed demo page, found from the executable's
// own path (include/sse/server/install_paths.h).
#include "sse/server/install_paths.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sse {

namespace {

bool is_directory(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

std::string self_exe_path() {
  char buffer[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buffer) return {};
  return std::string(buffer, static_cast<size_t>(n));
}

std::string installed_www_dir(const std::string& exe_path) {
  size_t slash = exe_path.rfind('/');
  if (slash == std::string::npos) return {};
  std::string candidate = exe_path.substr(0, slash) + "/../share/sse-server/www";
  return is_directory(candidate) ? candidate : std::string();
}

std::string default_www_dir() {
  if (is_directory("./www")) return "./www";
  std::string installed = installed_www_dir(self_exe_path());
  return installed.empty() ? "./www" : installed;
}

}  // namespace sse

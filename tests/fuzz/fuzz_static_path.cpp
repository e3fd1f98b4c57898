// fuzz_static_path.cpp — libFuzzer target for the static file resolver.
//
// A temporary www/ holds index.html and a symlink to a file outside it;
// beside www/ is secret.txt. Oracle: whatever URL path is asked for, a 200
// never carries the secret's bytes (nothing outside www/ is ever served).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "sse/http/static_files.h"

namespace {

constexpr std::string_view kSecret = "TOP-SECRET-OUTSIDE-WWW";

sse::StaticFiles& files() {
  static sse::StaticFiles* instance = [] {
    char pattern[] = "/tmp/sse-fuzz-XXXXXX";
    std::string root = mkdtemp(pattern);
    std::string www = root + "/www";
    mkdir(www.c_str(), 0755);
    mkdir((www + "/sub").c_str(), 0755);
    std::ofstream(root + "/secret.txt") << kSecret;
    std::ofstream(www + "/index.html") << "<h1>index</h1>";
    std::ofstream(www + "/sub/a.txt") << "a";
    symlink((root + "/secret.txt").c_str(), (www + "/link.txt").c_str());
    symlink("../secret.txt", (www + "/rel.txt").c_str());
    auto* f = new sse::StaticFiles;
    std::string error;
    if (!f->open(www, error)) std::abort();
    return f;
  }();
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path = "/";
  path.append(reinterpret_cast<const char*>(data), size);
  sse::StaticFile file = files().load(path, true);
  if (file.status == 200) {
    if (!file.body) std::abort();
    if (file.body->view().find(kSecret) != std::string_view::npos) std::abort();
  }
  return 0;
}

// test_install_paths.cpp — the installed page found from the executable's
// path (src/server/install_paths.cpp); tests/install/run.sh runs the real
// installed binary.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "sse/server/install_paths.h"

TEST_CASE("installed_www_dir: PREFIX/bin/x finds PREFIX/share/sse-server/www") {
  char tmpl[] = "/tmp/sse-install-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string prefix = tmpl;
  std::string exe = prefix + "/bin/sse-server";
  CHECK(sse::installed_www_dir(exe).empty());  // nothing installed yet
  for (const char* dir : {"/bin", "/share", "/share/sse-server", "/share/sse-server/www"}) {
    REQUIRE(::mkdir((prefix + dir).c_str(), 0700) == 0);
  }
  CHECK(sse::installed_www_dir(exe) == prefix + "/bin/../share/sse-server/www");
  CHECK(sse::installed_www_dir("sse-server").empty());  // no directory part
  CHECK(sse::installed_www_dir("").empty());
  for (const char* dir : {"/share/sse-server/www", "/share/sse-server", "/share", "/bin"}) {
    ::rmdir((prefix + dir).c_str());
  }
  ::rmdir(prefix.c_str());
}

TEST_CASE("self_exe_path names this test binary") {
  std::string self = sse::self_exe_path();
  REQUIRE(!self.empty());
  CHECK(self.front() == '/');
  CHECK(self.find("unit_tests") != std::string::npos);
}

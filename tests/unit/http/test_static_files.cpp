// test_static_files.cpp — files under --www and nothing outside it
// (src/http/static_files.cpp).
//
// A real directory tree, made fresh for each test with mkdtemp():
//
//   <root>/secret.txt            outside --www: must never be served
//   <root>/www/index.html
//   <root>/www/style.css, app.js, data.json, logo.PNG, noext, empty.txt,
//   <root>/www/with space.txt
//   <root>/www/sub/index.html, sub/page.html
//   <root>/www/empty/            a directory without index.html
//   <root>/www/fifo              a named pipe (must not block the loop)
//   <root>/www/inside  -> style.css            a symlink that stays inside
//   <root>/www/out     -> ../secret.txt        relative symlink out
//   <root>/www/abs     -> <root>/secret.txt    absolute symlink out
//   <root>/www/outdir  -> ..                   symlinked directory out
//
// StaticFiles opens <root>/www; every URL path is then tried for real.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "sse/http/static_files.h"

using sse::FileConditions;
using sse::StaticFile;
using sse::StaticFiles;

namespace {

void write_file(const std::string& path, const std::string& content) {
  FILE* file = std::fopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(std::fwrite(content.data(), 1, content.size(), file) == content.size());
  std::fclose(file);
}

class WwwTree {
 public:
  WwwTree() {
    char pattern[] = "/tmp/sse-static-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    root_ = pattern;
    www_ = root_ + "/www";
    REQUIRE(::mkdir(www_.c_str(), 0755) == 0);
    REQUIRE(::mkdir((www_ + "/sub").c_str(), 0755) == 0);
    REQUIRE(::mkdir((www_ + "/empty").c_str(), 0755) == 0);
    write_file(root_ + "/secret.txt", "SECRET");
    write_file(www_ + "/index.html", "<h1>home</h1>");
    write_file(www_ + "/style.css", "body{}");
    write_file(www_ + "/app.js", "let x;");
    write_file(www_ + "/data.json", "{}");
    write_file(www_ + "/logo.PNG", std::string("\x89PNG\r\n\x1a\n\0\0", 10));
    write_file(www_ + "/noext", "plain");
    write_file(www_ + "/empty.txt", "");
    write_file(www_ + "/sub/index.html", "<h1>sub</h1>");
    write_file(www_ + "/sub/page.html", "<p>page</p>");
    write_file(www_ + "/with space.txt", "spaced");
    REQUIRE(::mkfifo((www_ + "/fifo").c_str(), 0644) == 0);
    REQUIRE(::symlink("style.css", (www_ + "/inside").c_str()) == 0);
    REQUIRE(::symlink("../secret.txt", (www_ + "/out").c_str()) == 0);
    REQUIRE(::symlink((root_ + "/secret.txt").c_str(), (www_ + "/abs").c_str()) == 0);
    REQUIRE(::symlink("..", (www_ + "/outdir").c_str()) == 0);
    std::string error;
    REQUIRE(files.open(www_, error));
  }

  ~WwwTree() {
    for (const char* name : {"index.html", "style.css", "app.js", "data.json", "logo.PNG", "noext",
                             "empty.txt", "sub/index.html", "sub/page.html", "with space.txt",
                             "fifo", "inside", "out", "abs", "outdir"}) {
      ::unlink((www_ + "/" + name).c_str());
    }
    for (const std::string& name : added_) ::unlink((www_ + "/" + name).c_str());
    ::rmdir((www_ + "/sub").c_str());
    ::rmdir((www_ + "/empty").c_str());
    ::rmdir(www_.c_str());
    ::unlink((root_ + "/secret.txt").c_str());
    ::rmdir(root_.c_str());
  }

  // Writes www/<name>, dated `age_s` seconds ago (0: now; negative: in the
  // future). The cache keeps only files whose last change is over a second old.
  void put(const std::string& name, const std::string& content, int age_s = 3600) {
    std::string path = www_ + "/" + name;
    write_file(path, content);
    if (age_s != 0) {
      timespec past[2] = {{::time(nullptr) - age_s, 0}, {::time(nullptr) - age_s, 0}};
      REQUIRE(::utimensat(AT_FDCWD, path.c_str(), past, 0) == 0);
    }
    added_.push_back(name);
  }

  // www/<name> as a path, for tests that stat or open it themselves.
  std::string path(const std::string& name) const { return www_ + "/" + name; }

  StaticFiles files;

 private:
  std::string root_, www_;
  std::vector<std::string> added_;
};

std::string body_of(const StaticFile& file) {
  return file.body ? std::string(file.body->view()) : std::string();
}

void expect_not_served(WwwTree& tree, const std::string& path, int status = 404) {
  INFO("path: " << path);
  StaticFile file = tree.files.load(path, true);
  CHECK(file.status == status);
  CHECK_FALSE(file.body);
  CHECK(body_of(file).find("SECRET") == std::string::npos);
}

}  // namespace

TEST_CASE("a file is served with 200, its MIME type, its size and its bytes") {
  WwwTree tree;
  StaticFile file = tree.files.load("/style.css", true);
  CHECK(file.status == 200);
  CHECK(file.mime == "text/css; charset=utf-8");
  CHECK(file.size == 6);
  CHECK(body_of(file) == "body{}");

  StaticFile js = tree.files.load("/app.js", true);
  CHECK(js.mime == "text/javascript; charset=utf-8");
  CHECK(tree.files.load("/data.json", true).mime == "application/json");
  StaticFile png = tree.files.load("/logo.PNG", true);
  CHECK(png.mime == "image/png");  // extensions match in any case
  CHECK(body_of(png) == std::string("\x89PNG\r\n\x1a\n\0\0", 10));
  CHECK(tree.files.load("/noext", true).mime == "application/octet-stream");
}

TEST_CASE("'/' serves index.html") {
  WwwTree tree;
  StaticFile file = tree.files.load("/", true);
  CHECK(file.status == 200);
  CHECK(file.mime == "text/html; charset=utf-8");
  CHECK(body_of(file) == "<h1>home</h1>");
}

TEST_CASE("a directory path ending in '/' serves its index.html") {
  WwwTree tree;
  CHECK(body_of(tree.files.load("/sub/", true)) == "<h1>sub</h1>");
  CHECK(body_of(tree.files.load("/sub/page.html", true)) == "<p>page</p>");
}

TEST_CASE("a directory without index.html, or named without '/', gets 404") {
  WwwTree tree;
  expect_not_served(tree, "/empty/");
  expect_not_served(tree, "/empty");
  expect_not_served(tree, "/sub");
}

TEST_CASE("a missing file gets 404") {
  WwwTree tree;
  expect_not_served(tree, "/missing.html");
  expect_not_served(tree, "/sub/missing/");
}

TEST_CASE("HEAD gets the status, type and size without reading the body") {
  WwwTree tree;
  StaticFile file = tree.files.load("/index.html", false);
  CHECK(file.status == 200);
  CHECK(file.mime == "text/html; charset=utf-8");
  CHECK(file.size == 13);
  CHECK_FALSE(file.body);
}

TEST_CASE("an empty file is served with an empty body") {
  WwwTree tree;
  StaticFile file = tree.files.load("/empty.txt", true);
  CHECK(file.status == 200);
  CHECK(file.size == 0);
  CHECK(body_of(file).empty());
}

TEST_CASE("percent-encoded names are decoded") {
  WwwTree tree;
  CHECK(body_of(tree.files.load("/with%20space.txt", true)) == "spaced");
  CHECK(body_of(tree.files.load("/%73tyle.css", true)) == "body{}");
  CHECK(body_of(tree.files.load("/sub%2Fpage.html", true)) == "<p>page</p>");
}

TEST_CASE("'..' never leaves --www, however it is spelled") {
  WwwTree tree;
  for (const char* path :
       {"/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
        "/.%2e/secret.txt", "/sub/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt", "/..", "/../", "/./../secret.txt"}) {
    expect_not_served(tree, path);
  }
}

TEST_CASE("'..' that stays inside --www is resolved") {
  WwwTree tree;
  CHECK(body_of(tree.files.load("/sub/../style.css", true)) == "body{}");
}

TEST_CASE("an absolute path never leaves --www") {
  WwwTree tree;
  expect_not_served(tree, "//etc/passwd");
  expect_not_served(tree, "/%2fetc/passwd");
}

TEST_CASE("a symlink that leads outside --www is not followed") {
  WwwTree tree;
  expect_not_served(tree, "/out");
  expect_not_served(tree, "/abs");
  expect_not_served(tree, "/outdir/secret.txt");
  expect_not_served(tree, "/outdir/www/style.css");  // even back in: it went out first
}

TEST_CASE("a symlink that stays inside --www is followed") {
  WwwTree tree;
  StaticFile file = tree.files.load("/inside", true);
  CHECK(file.status == 200);
  CHECK(body_of(file) == "body{}");
}

TEST_CASE("a named pipe is not served and does not block") {
  WwwTree tree;
  expect_not_served(tree, "/fifo");
}

TEST_CASE("a malformed percent-encoding or an encoded NUL gets 400") {
  WwwTree tree;
  for (const char* path :
       {"/%zz", "/%2", "/%", "/index.html%0", "/%00", "/index.html%00.txt", "/a%g1"}) {
    expect_not_served(tree, path, 400);
  }
}

TEST_CASE("a path that does not start with '/' gets 400") {
  WwwTree tree;
  expect_not_served(tree, "", 400);
  expect_not_served(tree, "index.html", 400);
  expect_not_served(tree, "*", 400);
}

TEST_CASE("every request for a file shares one cached frame, however the path is spelled") {
  WwwTree tree;
  tree.put("a.css", "a{}");
  StaticFile first = tree.files.load("/a.css", true);
  StaticFile again = tree.files.load("/./sub/../a.css", true);
  REQUIRE(first.body);
  CHECK(again.body.get() == first.body.get());
  CHECK(tree.files.cached_files() == 1);
  CHECK(body_of(again) == "a{}");
}

TEST_CASE("a file changed on disk is read again") {
  WwwTree tree;
  tree.put("a.css", "old");
  CHECK(body_of(tree.files.load("/a.css", true)) == "old");
  tree.put("a.css", "newer", 1800);  // another size and another mtime
  CHECK(body_of(tree.files.load("/a.css", true)) == "newer");
  tree.put("a.css", "NEWER", 600);  // the same size, another mtime
  CHECK(body_of(tree.files.load("/a.css", true)) == "NEWER");
  CHECK(tree.files.cached_files() == 1);
}

TEST_CASE("a file changed within the last second is served but not cached") {
  WwwTree tree;
  tree.put("fresh.txt", "maybe still being written", 0);
  StaticFile first = tree.files.load("/fresh.txt", true);
  CHECK(body_of(first) == "maybe still being written");
  CHECK(tree.files.cached_files() == 0);
  CHECK(tree.files.load("/fresh.txt", true).body.get() != first.body.get());
}

TEST_CASE("the cache is emptied when it would pass its size limit") {
  WwwTree tree;
  const std::string big(15 << 20, 'x');  // under the 16 MiB file limit
  for (int i = 0; i < 5; ++i) tree.put("big" + std::to_string(i), big);
  for (int i = 0; i < 4; ++i) REQUIRE(tree.files.load("/big" + std::to_string(i), true).body);
  CHECK(tree.files.cached_files() == 4);              // 60 MiB
  StaticFile fifth = tree.files.load("/big4", true);  // 75 MiB would pass the 64 MiB limit
  CHECK(fifth.size == big.size());
  CHECK(tree.files.cached_files() == 1);
}

TEST_CASE("opening a missing --www directory fails with a message naming it") {
  StaticFiles files;
  std::string error;
  CHECK_FALSE(files.open("/nonexistent/sse-www-dir", error));
  CHECK(error.find("--www") != std::string::npos);
  CHECK(error.find("/nonexistent/sse-www-dir") != std::string::npos);
}

TEST_CASE("mime_type knows the web's common types, in any case") {
  CHECK(sse::mime_type("a.html") == "text/html; charset=utf-8");
  CHECK(sse::mime_type("A.HTM") == "text/html; charset=utf-8");
  CHECK(sse::mime_type("x.mjs") == "text/javascript; charset=utf-8");
  CHECK(sse::mime_type("x.svg") == "image/svg+xml");
  CHECK(sse::mime_type("x.jpeg") == "image/jpeg");
  CHECK(sse::mime_type("x.wasm") == "application/wasm");
  CHECK(sse::mime_type("x.woff2") == "font/woff2");
  CHECK(sse::mime_type("x.txt") == "text/plain; charset=utf-8");
  CHECK(sse::mime_type("archive.tar.gz") == "application/octet-stream");
  CHECK(sse::mime_type("noext") == "application/octet-stream");
  CHECK(sse::mime_type("dir.html/file") == "application/octet-stream");
  CHECK(sse::mime_type(".html") == "text/html; charset=utf-8");
  CHECK(sse::mime_type("") == "application/octet-stream");
}

TEST_CASE("a 200 carries a weak ETag from inode, size and mtime, and Last-Modified") {
  WwwTree tree;
  tree.put("a.css", "a{}", 3600);
  struct stat info {};
  REQUIRE(::stat(tree.path("a.css").c_str(), &info) == 0);
  char expected[128];
  std::snprintf(expected, sizeof expected, "W/\"%llx-%llx-%llx.%llx\"",
                static_cast<unsigned long long>(info.st_ino),
                static_cast<unsigned long long>(info.st_size),
                static_cast<unsigned long long>(info.st_mtim.tv_sec),
                static_cast<unsigned long long>(info.st_mtim.tv_nsec));
  StaticFile file = tree.files.load("/a.css", true);
  CHECK(file.status == 200);
  CHECK(file.etag == expected);
  CHECK(file.last_modified == info.st_mtim.tv_sec);
  StaticFile head = tree.files.load("/a.css", false);  // HEAD: the same validators
  CHECK(head.etag == file.etag);
  CHECK(head.last_modified == file.last_modified);
}

TEST_CASE("the ETag changes when the file does, even at the same size") {
  WwwTree tree;
  tree.put("a.css", "old", 3600);
  std::string first = tree.files.load("/a.css", false).etag;
  tree.put("a.css", "new", 1800);
  std::string second = tree.files.load("/a.css", false).etag;
  CHECK(first != second);
  CHECK(tree.files.load("/style.css", false).etag != second);  // another inode
}

TEST_CASE("a Last-Modified is never later than now, even for a file dated in the future") {
  WwwTree tree;
  tree.put("future.txt", "soon", -3600);  // age -1 h: an hour ahead
  StaticFile file = tree.files.load("/future.txt", true);
  CHECK(file.status == 200);
  CHECK(file.last_modified <= ::time(nullptr));
}

TEST_CASE("a matching If-None-Match gets 304 with the validators and no body") {
  WwwTree tree;
  tree.put("a.css", "a{}");
  StaticFile first = tree.files.load("/a.css", true);
  REQUIRE(first.status == 200);
  const std::string tag = first.etag;
  const std::string strong = tag.substr(2);  // the same tag without W/
  for (const std::string& field : {tag, strong, "\"other\", " + tag, "\"x\"," + strong + " ,\"y\"",
                                   " " + tag + " ", std::string("*"), ",," + tag}) {
    INFO("If-None-Match: " << field);
    for (bool want_body : {true, false}) {
      StaticFile file = tree.files.load("/a.css", want_body, FileConditions{field, {}});
      CHECK(file.status == 304);
      CHECK_FALSE(file.body);
      CHECK(file.etag == tag);
      CHECK(file.last_modified == first.last_modified);
    }
  }
}

TEST_CASE("an If-None-Match that does not match gets the whole file") {
  WwwTree tree;
  tree.put("a.css", "a{}");
  const std::string tag = tree.files.load("/a.css", true).etag;
  for (const std::string& field :
       {std::string("\"nope\""), std::string("W/\"nope\""), tag.substr(0, tag.size() - 2) + "\"",
        tag.substr(2, tag.size() - 3), std::string("garbage ") + tag, std::string("\"a\" \"b\""),
        std::string("**")}) {
    INFO("If-None-Match: " << field);
    StaticFile file = tree.files.load("/a.css", true, FileConditions{field, {}});
    CHECK(file.status == 200);
    CHECK(body_of(file) == "a{}");
  }
}

TEST_CASE("If-Modified-Since no older than the file gets 304, an older one the file") {
  WwwTree tree;
  tree.put("a.css", "a{}", 3600);
  StaticFile first = tree.files.load("/a.css", true);
  const std::string at = "Thu, 01 Jan 1970 00:00:00 GMT";
  auto since = [&](int64_t seconds) {
    char text[64];
    time_t t = static_cast<time_t>(seconds);
    struct tm utc {};
    ::gmtime_r(&t, &utc);
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    return std::string(text);
  };
  std::string same = since(first.last_modified), later = since(first.last_modified + 10),
              earlier = since(first.last_modified - 1);
  CHECK(tree.files.load("/a.css", true, FileConditions{{}, same}).status == 304);
  CHECK(tree.files.load("/a.css", true, FileConditions{{}, later}).status == 304);
  StaticFile older = tree.files.load("/a.css", true, FileConditions{{}, earlier});
  CHECK(older.status == 200);
  CHECK(body_of(older) == "a{}");
  // A date that does not parse is ignored (RFC 9110 §13.1.3).
  CHECK(tree.files.load("/a.css", true, FileConditions{{}, "yesterday"}).status == 200);
  // If-None-Match decides when both are sent, even if the date would match.
  CHECK(tree.files.load("/a.css", true, FileConditions{"\"nope\"", later}).status == 200);
  CHECK(tree.files.load("/a.css", true, FileConditions{first.etag, at}).status == 304);
}

TEST_CASE("conditions never turn an error into a 304") {
  WwwTree tree;
  FileConditions any{"*", "Fri, 31 Dec 9999 23:59:59 GMT"};
  CHECK(tree.files.load("/missing.txt", true, any).status == 404);
  CHECK(tree.files.load("/fifo", true, any).status == 404);
  CHECK(tree.files.load("/out", true, any).status == 404);
  CHECK(tree.files.load("/%00", true, any).status == 400);
}

TEST_CASE("a named pipe is refused without being opened for reading") {
  WwwTree tree;
  const std::string fifo = tree.path("fifo");
  // A writer blocked in open(O_WRONLY) wakes as soon as any reader opens
  // the FIFO, even one that closes it at once: the proof of an open.
  std::atomic<bool> writer_opened{false};
  std::thread writer([&] {
    int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
    writer_opened = fd >= 0;
    if (fd >= 0) ::close(fd);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let it block in open()
  auto started = std::chrono::steady_clock::now();
  StaticFile file = tree.files.load("/fifo", true);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
  CHECK(file.status == 404);
  CHECK_FALSE(file.body);
  CHECK(tree.files.load("/fifo", false).status == 404);  // HEAD too
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK_FALSE(writer_opened.load());
  // Still no reader: a non-blocking writer is told so.
  errno = 0;
  CHECK(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC) == -1);
  CHECK(errno == ENXIO);
  // Release the writer so the thread ends.
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  REQUIRE(reader >= 0);
  writer.join();
  ::close(reader);
}

TEST_CASE("a device node under --www is refused") {
  WwwTree tree;
  const std::string node = tree.path("null");
  // mknod needs CAP_MKNOD: without it there is nothing to test here.
  if (::mknod(node.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    MESSAGE("skipped: cannot create a device node (not root?)");
    return;
  }
  StaticFile file = tree.files.load("/null", true);
  CHECK(file.status == 404);
  CHECK_FALSE(file.body);
  ::unlink(node.c_str());
}

TEST_CASE("a cached file is answered with its validators and a 304 without rereading it") {
  WwwTree tree;
  tree.put("a.css", "a{}");
  StaticFile first = tree.files.load("/a.css", true);
  REQUIRE(tree.files.cached_files() == 1);
  StaticFile again = tree.files.load("/a.css", true);
  CHECK(again.body.get() == first.body.get());
  CHECK(again.etag == first.etag);
  CHECK(tree.files.load("/a.css", true, FileConditions{first.etag, {}}).status == 304);
  CHECK(tree.files.cached_files() == 1);
}

TEST_CASE("etag_list_matches compares weakly and reads the list grammar") {
  CHECK(sse::etag_list_matches("W/\"1\"", "W/\"1\""));
  CHECK(sse::etag_list_matches("\"1\"", "W/\"1\""));
  CHECK(sse::etag_list_matches("W/\"1\"", "\"1\""));
  CHECK(sse::etag_list_matches("\"0\", \"1\"", "W/\"1\""));
  CHECK(sse::etag_list_matches("\"0\" ,\t\"1\"", "W/\"1\""));
  CHECK(sse::etag_list_matches(" * ", "W/\"1\""));
  CHECK_FALSE(sse::etag_list_matches("", "W/\"1\""));
  CHECK_FALSE(sse::etag_list_matches("\"10\"", "W/\"1\""));
  CHECK_FALSE(sse::etag_list_matches("1", "W/\"1\""));
  CHECK_FALSE(sse::etag_list_matches("w/\"1\"", "W/\"1\""));  // W/ is case-sensitive
  CHECK_FALSE(sse::etag_list_matches("\"1", "W/\"1\""));
  CHECK_FALSE(sse::etag_list_matches("\"0\" \"1\"", "W/\"1\""));  // no comma: malformed
  CHECK_FALSE(sse::etag_list_matches("*, \"1\"", "W/\"2\""));
}

TEST_CASE("parse_http_date reads the three HTTP-date forms") {
  int64_t seconds = 0;
  REQUIRE(sse::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", seconds));
  CHECK(seconds == 784111777);
  seconds = 0;
  REQUIRE(sse::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", seconds));
  CHECK(seconds == 784111777);
  seconds = 0;
  REQUIRE(sse::parse_http_date("Sun Nov  6 08:49:37 1994", seconds));
  CHECK(seconds == 784111777);
  REQUIRE(sse::parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT", seconds));
  CHECK(seconds == 0);
  REQUIRE(sse::parse_http_date("Tuesday, 01-Dec-26 22:29:05 GMT", seconds));
  CHECK(seconds == 1796164145);
}

TEST_CASE("parse_http_date refuses anything else") {
  int64_t seconds = 0;
  for (const char* text :
       {"", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37 GMT ",
        "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49 GMT",
        "Sun, 06 Nov 19a4 08:49:37 GMT", "Sun Nov 6 08:49:37 1994", "Sun, 06-Nov-94 08:49:37 GMT",
        "Sunday, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z"}) {
    INFO("date: " << text);
    CHECK_FALSE(sse::parse_http_date(text, seconds));
  }
}

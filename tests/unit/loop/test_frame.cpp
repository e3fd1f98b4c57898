// test_frame.cpp — the shared, reference-counted byte run (include/sse/loop/frame.h).
#include <doctest/doctest.h>

#include <string>
#include <utility>

#include "sse/loop/frame.h"

using sse::FrameRef;

TEST_CASE("a frame holds a copy of its bytes") {
  std::string source = "id: 1\ndata: x\n\n";
  FrameRef frame = FrameRef::copy_of(source);
  source[0] = 'X';
  CHECK(frame->view() == "id: 1\ndata: x\n\n");
  CHECK(frame->size() == 15);
}

TEST_CASE("copies share one frame and count references; the last one frees it") {
  FrameRef a = FrameRef::copy_of("abc");
  CHECK(a.use_count() == 1);
  {
    FrameRef b = a;
    FrameRef c(b);
    CHECK(a.use_count() == 3);
    CHECK(b.get() == a.get());
    CHECK(c.get() == a.get());
  }
  CHECK(a.use_count() == 1);
}

TEST_CASE("moving a reference transfers it without counting") {
  FrameRef a = FrameRef::copy_of("abc");
  const sse::Frame* address = a.get();
  FrameRef b = std::move(a);
  CHECK_FALSE(a);
  CHECK(a.use_count() == 0);
  CHECK(b.get() == address);
  CHECK(b.use_count() == 1);
}

TEST_CASE("assignment releases the old frame and shares the new one") {
  FrameRef a = FrameRef::copy_of("a");
  FrameRef b = FrameRef::copy_of("b");
  FrameRef keep_a = a;
  a = b;
  CHECK(keep_a.use_count() == 1);
  CHECK(b.use_count() == 2);
  CHECK(a->view() == "b");
  a = a;  // self-assignment keeps the frame
  CHECK(a->view() == "b");
  CHECK(b.use_count() == 2);
  a = FrameRef();
  CHECK(b.use_count() == 1);
}

TEST_CASE("an empty frame and a null reference are different things") {
  FrameRef empty = FrameRef::copy_of("");
  CHECK(empty);
  CHECK(empty->size() == 0);
  FrameRef null;
  CHECK_FALSE(null);
  CHECK(null.use_count() == 0);
}

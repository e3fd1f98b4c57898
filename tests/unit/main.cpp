// main.cpp — the doctest runner for the unit tests.
//
// Every tests/unit/test_<name>.cpp tests src/<name>.cpp on its own: pure
// functions over buffers, and real file descriptors (socketpairs, temporary
// directories) where a unit touches the kernel; no mocks. The Makefile
// builds them with -fsanitize=address,undefined and links every object of
// src/ except main.o.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

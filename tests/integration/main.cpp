// main.cpp — doctest's runner for the integration tests. The tests start the
// binary named by env SSE_SERVER (default ./sse-server) and expect to run
// from the repository root, one test at a time.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

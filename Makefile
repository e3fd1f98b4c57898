# sse-server — build, test and benchmark.
#
#   make          build ./sse-server (release: -O2), and copy the dashboard's
#                 chart library into www/vendor/ (below)
#   make run      install missing packages, build, run on port 3000
#   make test     install missing packages, build, run unit, integration
#                 (both under AddressSanitizer + UBSan) and browser tests
#   make bench    the fan-out benchmark sweep against the floor (bench/README.md)
#   make bench-compare  the same against nginx + nchan and a Node.js server
#   make bench-http     wrk and hey on /health, a static file and /publish
#   make bench-redis    the same server with --redis, the publish rate through Redis
#   make bench-scale    100,000 subscribers on --workers 6 --redis; 1 vs 2 workers
#   make fuzz     run each libFuzzer target for FUZZ_SECONDS (default 300)
#   make soak     SOAK_SECONDS (default 600) of subscribers, publishing, churn
#                 and hostile clients against ./sse-server (tests/soak/)
#   make deps     install the Debian packages and npm test clients (idempotent)
#   make install  the binary, demo page, man page and systemd unit under
#                 $(DESTDIR)$(PREFIX) (PREFIX default /usr/local); make uninstall
#   make clean    remove build output

SHELL := /bin/bash
CXX ?= g++
CXXSTD := -std=c++17
WARNINGS := -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
CPPFLAGS := -Iinclude -MMD -MP
CXXFLAGS ?= -O2 -g
LDLIBS := -lsimdjson -lhiredis -lcrypto
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# One folder per layer (README "Layout"): src/<layer>/<name>.cpp.
SRC := $(wildcard src/*/*.cpp)
LIB_SRC := $(filter-out src/server/main.cpp,$(SRC))
RELEASE_OBJ := $(SRC:src/%.cpp=build/release/%.o)
ASAN_OBJ := $(SRC:src/%.cpp=build/asan/%.o)
ASAN_LIB_OBJ := $(LIB_SRC:src/%.cpp=build/asan/%.o)
UNIT_SRC := $(wildcard tests/unit/*.cpp tests/unit/*/*.cpp)
UNIT_OBJ := $(UNIT_SRC:tests/unit/%.cpp=build/asan/unit/%.o)
INTEGRATION_SRC := $(wildcard tests/integration/*.cpp)
INTEGRATION_OBJ := $(INTEGRATION_SRC:tests/integration/%.cpp=build/asan/integration/%.o)

# Debian packages the build needs (make run), and the build and the tests
# need (make test); node/npm only if absent
# (the machine may carry its own Node.js build).
BUILD_PACKAGES := g++ make libsimdjson-dev libhiredis-dev libssl-dev libjs-dygraphs
DEB_PACKAGES := g++ make doctest-dev libsimdjson-dev libhiredis-dev libssl-dev libjs-dygraphs curl chromium clang \
  libclang-rt-14-dev redis-server nginx-light openssl man-db systemd prometheus
NPM_MODULES := node_modules/playwright-core node_modules/eventsource
# The benchmarks also plot (gnuplot) and pin processes to cores (taskset).
BENCH_PACKAGES := g++ make libsimdjson-dev libhiredis-dev libssl-dev gnuplot-nox util-linux
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all www-vendor run build-deps test layer-check unit-test integration-test client-test browser-test fuzz fuzz-smoke deps \
	bench-deps clean bench bench-compare bench-http bench-redis bench-scale soak \
	install uninstall install-test metrics-test

all: sse-server www-vendor

# The dashboard (www/index.html) draws its charts with Debian's
# libjs-dygraphs: its two files are copied into www/vendor/ (ignored by git:
# built, never committed), so the page loads nothing from the network. The
# test is made when the recipe runs, not when make reads this file, so that
# `make run` copies what its build-deps step has just installed. Without the
# package the page still works and shows its figures as text.
DYGRAPHS_DIR := /usr/share/javascript/dygraphs
DYGRAPHS_FILES := dygraph.min.js dygraph.min.css

www-vendor:
	@if [ -d $(DYGRAPHS_DIR) ]; then \
	  mkdir -p www/vendor; \
	  for f in $(DYGRAPHS_FILES); do \
	    cmp -s $(DYGRAPHS_DIR)/$$f www/vendor/$$f || cp $(DYGRAPHS_DIR)/$$f www/vendor/$$f || exit 1; \
	  done; \
	else \
	  echo "make: note: no $(DYGRAPHS_DIR) (apt-get install libjs-dygraphs): the dashboard will show figures without charts"; \
	fi

sse-server: $(RELEASE_OBJ)
	$(CXX) $(CXXFLAGS) -o $@ $^ $(LDLIBS)

build/release/%.o: src/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXSTD) $(CPPFLAGS) $(CXXFLAGS) $(WARNINGS) -c -o $@ $<

build/asan/%.o: src/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXSTD) $(CPPFLAGS) -O1 -g $(SANITIZE) $(WARNINGS) -c -o $@ $<

build/asan/unit/%.o: tests/unit/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXSTD) $(CPPFLAGS) -Itests/unit -O1 -g $(SANITIZE) -Wall -Wextra -c -o $@ $<

build/asan/integration/%.o: tests/integration/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXSTD) $(CPPFLAGS) -Itests/integration -O1 -g $(SANITIZE) -Wall -Wextra -c -o $@ $<

build/asan/sse-server: $(ASAN_OBJ)
	$(CXX) $(SANITIZE) -o $@ $^ $(LDLIBS)

build/asan/unit_tests: $(UNIT_OBJ) $(ASAN_LIB_OBJ)
	$(CXX) $(SANITIZE) -o $@ $^ $(LDLIBS)

build/asan/integration_tests: $(INTEGRATION_OBJ)
	$(CXX) $(SANITIZE) -o $@ $^

build/release build/fuzz:
	mkdir -p $@

# libFuzzer targets (clang): the parser, the chunked decoder, the publish
# validator, the static path resolver and the token verifier. `make fuzz` runs each for
# FUZZ_SECONDS; `make test` runs each for 20 s as a smoke test. New inputs
# go to build/fuzz/corpus-*, the seeds stay in tests/fuzz/corpus/.
FUZZ_TARGETS := http_parser http_body publish static_path jwt
FUZZ_SECONDS ?= 300
FUZZ_CXX := clang++
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_OBJ := $(LIB_SRC:src/%.cpp=build/fuzz/%.o)
FUZZ_BIN := $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
.SECONDARY: $(FUZZ_LIB_OBJ)

build/fuzz/%.o: src/%.cpp
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(CXXSTD) $(CPPFLAGS) -O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SANITIZE) -c -o $@ $<

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.cpp $(FUZZ_LIB_OBJ)
	$(FUZZ_CXX) $(CXXSTD) -Iinclude -O1 -g -fsanitize=fuzzer $(FUZZ_SANITIZE) -o $@ $^ $(LDLIBS)

fuzz: deps $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus-$$t; \
	  echo "fuzz $$t for $(FUZZ_SECONDS) s"; \
	  build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/crash-$$t- build/fuzz/corpus-$$t tests/fuzz/corpus/$$t \
	    2>&1 | grep -E '^(stat::number_of_executed_units|#[0-9]+ +DONE)|ERROR|Test unit written' \
	    || true; \
	  ls build/fuzz/crash-$$t-* >/dev/null 2>&1 && { echo "fuzz $$t: crash found"; exit 1; }; \
	done; echo "fuzz: no findings"

fuzz-smoke:
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=20

# The soak client reuses the integration harness; it runs against the
# release build, the one users run for days.
SOAK_SECONDS ?= 600

build/soak: tests/soak/soak.cpp tests/integration/harness.cpp tests/integration/harness.h \
  | build/release
	$(CXX) $(CXXSTD) -Itests/integration -O2 -g -Wall -Wextra -o $@ $(filter %.cpp,$^)

soak: deps sse-server build/soak
	build/soak --seconds $(SOAK_SECONDS) --server ./sse-server

# Only what the build needs: the test tools (browser, fuzzer, clients,
# redis-server, nginx) come with `make test`.
run: build-deps sse-server www-vendor
	./sse-server

# Sanitizer reports from the server land in its stderr, which the test
# runner shares; any report fails the run even if every assertion passed.
SANITIZER_REPORT := 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:'

test: deps
	$(MAKE) --no-print-directory -j$$(nproc) sse-server build/asan/sse-server build/asan/unit_tests \
	  build/asan/integration_tests $(FUZZ_BIN)
	$(MAKE) --no-print-directory layer-check unit-test integration-test client-test browser-test \
	  install-test metrics-test fuzz-smoke
	@echo "make test: all suites passed"

# Lower layers never include higher ones (tests/layers/check_layers.sh).
layer-check:
	tests/layers/run.sh

unit-test: build/asan/unit_tests
	build/asan/unit_tests

integration-test: build/asan/integration_tests build/asan/sse-server
	set -o pipefail; SSE_SERVER=build/asan/sse-server build/asan/integration_tests 2>&1 \
	  | tee build/integration.log
	@! grep -Eq $(SANITIZER_REPORT) build/integration.log || \
	  { echo "sanitizer report in build/integration.log"; exit 1; }

client-test: sse-server
	SSE_SERVER=./sse-server node --test tests/client/

browser-test: sse-server www-vendor
	SSE_SERVER=./sse-server node tests/browser/test_page.mjs
	SSE_SERVER=./sse-server node tests/browser/test_dashboard.mjs
	SSE_SERVER=./sse-server node tests/browser/test_cross_origin.mjs
	SSE_SERVER=./sse-server node tests/browser/test_redis_resume.mjs
	SSE_SERVER=./sse-server node tests/browser/test_private_cors.mjs

# make install into a scratch PREFIX and DESTDIR: the file list, the
# installed binary serving the installed page from /, the unit, the man page.
install-test: sse-server
	tests/install/run.sh

# /metrics through promtool (Debian prometheus), and beside /stats.
metrics-test: sse-server
	tests/metrics/run.sh

# Installs the Debian packages in $(1) that are missing: `apt-get update`
# once, and only when something is missing, so a ready machine pays nothing.
define apt_install
	@missing=""; \
	for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ "$(2)" = node ]; then \
	  command -v node >/dev/null || missing="$$missing nodejs"; \
	  command -v npm >/dev/null || missing="$$missing npm"; \
	fi; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

build-deps:
	$(call apt_install,$(BUILD_PACKAGES))

deps:
	$(call apt_install,$(DEB_PACKAGES),node)
	@for m in $(NPM_MODULES); do [ -d $$m ] || { \
	  echo "make deps: npm install (test clients, versions pinned in package.json)"; \
	  npm install --no-package-lock --no-audit --no-fund --loglevel=error; break; }; done

bench-deps:
	$(call apt_install,$(BENCH_PACKAGES),node)

# The fan-out sweep (bench/README.md): sse-server against the floor.
bench: bench-deps sse-server
	bench/run.sh

# The same workload against the floor, nginx + nchan and a Node.js server,
# and the wrk/hey recipes against nginx; each installs its own servers.
bench-compare: bench-deps sse-server
	bench/compare.sh

bench-http: bench-deps sse-server
	bench/http.sh

# --redis: CPU per delivery and fan-out latency beside the in-memory server
# and the floor, the publish rate through Redis beside redis-benchmark, and
# two instances sharing the subscribers (bench/redis.sh).
bench-redis: bench-deps sse-server
	bench/redis.sh

# 100,000 subscribers on sse-server --workers 6 --redis, against the floor and
# one process at the same N per worker, and 1 vs 2 workers (bench/scale.sh).
bench-scale: bench-deps sse-server
	bench/scale.sh

# make install: PREFIX is where the files will live (the unit's ExecStart
# names it), DESTDIR a staging root put in front of it (packaging). The man
# page is generated from --help and --version (tools/man.sh), so it cannot
# drift; the unit is dist/sse-server.service with @PREFIX@ filled in.
PREFIX ?= /usr/local
DESTDIR ?=
INSTALL_BIN := $(DESTDIR)$(PREFIX)/bin
INSTALL_WWW := $(DESTDIR)$(PREFIX)/share/sse-server/www
INSTALL_MAN1 := $(DESTDIR)$(PREFIX)/share/man/man1
INSTALL_UNIT := $(DESTDIR)$(PREFIX)/lib/systemd/system
# `=`, not `:=`: the list is made when the recipe runs, after www-vendor
# has copied the chart library in.
WWW_FILES = $(shell find www -type f 2>/dev/null | sort)

install: sse-server www-vendor
	@mkdir -p build
	tools/man.sh ./sse-server '$(PREFIX)' >build/sse-server.1
	sed 's|@PREFIX@|$(PREFIX)|g' dist/sse-server.service >build/sse-server.service
	install -D -m 755 sse-server '$(INSTALL_BIN)/sse-server'
	$(foreach f,$(WWW_FILES),install -D -m 644 '$(f)' '$(INSTALL_WWW)/$(f:www/%=%)' &&) true
	install -D -m 644 build/sse-server.1 '$(INSTALL_MAN1)/sse-server.1'
	install -D -m 644 build/sse-server.service '$(INSTALL_UNIT)/sse-server.service'

uninstall:
	rm -f '$(INSTALL_BIN)/sse-server' '$(INSTALL_MAN1)/sse-server.1' \
	  '$(INSTALL_UNIT)/sse-server.service'
	rm -rf '$(INSTALL_WWW)'
	rmdir '$(DESTDIR)$(PREFIX)/share/sse-server' 2>/dev/null || true

clean:
	rm -rf build sse-server www/vendor

-include $(RELEASE_OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(INTEGRATION_OBJ:.o=.d) \
  $(FUZZ_LIB_OBJ:.o=.d)

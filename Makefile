# SPDX-License-Identifier: GPL-2.0-or-later
# SARA — top-level build. `make` builds every binary into build/; see `make help`.
# Sources are found by folder, so adding a .cpp needs no edit here.

SHELL := /bin/bash
# Builds use every core; the test steps of `check` still run one after another (one recipe).
MAKEFLAGS += -j$(shell nproc)
BUILD ?= build
CXX ?= g++
CLANGXX ?= clang++-14
PYTHON := /usr/bin/python3

PKGS := yaml-cpp libpcap libnetfilter_queue libmnl libcrypto absl_flat_hash_map absl_hash libbpf
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CXXFLAGS ?= -O2 -g
CXXFLAGS += -DBOOST_TEST_DYN_LINK -std=c++20 -Wall -Wextra -Werror -I. $(PKG_CFLAGS) $(EXTRA_CXXFLAGS)
DEPFLAGS = -MMD -MP
LDFLAGS += $(EXTRA_LDFLAGS)
LDLIBS += $(PKG_LIBS) -lpthread

COMMON_SRC := $(shell find common -name '*.cpp' | sort)
DAEMON_LIB_SRC := $(shell find daemon -name '*.cpp' ! -name main.cpp | sort)
NODEAGENT_SRC := $(shell find nodeagent -name '*.cpp' | sort)
NODEAGENT_LIB_SRC := $(filter-out nodeagent/main.cpp,$(NODEAGENT_SRC))
GATEWAY_SRC := $(shell find gateway -name '*.cpp' | sort)
GATEWAY_LIB_SRC := $(filter-out gateway/main.cpp,$(GATEWAY_SRC))
UNIT_SRC := $(shell find tests/unit -name '*.cpp' | sort)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.cpp))
BENCH_SRC := $(sort $(wildcard tests/bench/bench_*.cpp))

obj = $(patsubst %.cpp,$(BUILD)/obj/%.o,$(1))
COMMON_OBJ := $(call obj,$(COMMON_SRC))
DAEMON_LIB_OBJ := $(call obj,$(DAEMON_LIB_SRC))
UNIT_OBJ := $(call obj,$(UNIT_SRC))

BINARIES := $(BUILD)/sarad $(BUILD)/sara-nodeagent $(BUILD)/sara-gatewayd
TOOL_SRC := $(sort $(wildcard tests/tools/*.cpp))
TOOL_BINS := $(patsubst tests/tools/%.cpp,$(BUILD)/tools/%,$(TOOL_SRC))
UNIT_BIN := $(BUILD)/unit-tests

.PHONY: all help deps test check asan ubsan fuzz fuzz-build fuzz-long bench bench-datapath demo demo-mesh demo-replay captures integration replay-test tools clean
all: $(BINARIES) $(UNIT_BIN) $(TOOL_BINS) $(BUILD)/sara-sim

help:
	@echo "make            build every binary into build/"
	@echo "make deps       install the Debian packages build, tests and demo need (root)"
	@echo "make test       unit tests (Boost.Test)"
	@echo "make check      deps + build + every test suite (what CI runs)"
	@echo "make sanitize   unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (asan, ubsan: aliases)"
	@echo "make tsan       unit tests and a threaded sarad integration test under ThreadSanitizer (root)"
	@echo "make fuzz       a short bounded libFuzzer run of every target (FUZZ_SECONDS=$(FUZZ_SECONDS))"
	@echo "make bench      benchmarks (Google Benchmark), ratios against a baseline"
	@echo "make bench-table the queue path with a million sessions expiring, saved, reloaded (root, ~3 min)"
	@echo "make bench-mesh active dispatchers: sync cost per call vs dispatch, ECMP remapping (root, ~1 min)"
	@echo "make bench-sip  SIP call rate: sara vs Kamailio's dispatcher vs direct (root, <15 min; IP_VERSION=6: over IPv6)"
	@echo "make sim-report sara-sim sweeps: CSV + PNG plots in build/sim-report (under a minute)"
	@echo "make overload   the real overload run: SIPp at 2x capacity, SA2C on and off (root, ~2 min)"
	@echo "make demo       SARA end to end on this machine"
	@echo "make demo-mesh  two active dispatchers behind BGP ECMP (FRR), one killed half way (root, ~1 min)"
	@echo "make captures   regenerate tests/data from real peers in namespaces (root)"

deps:
	tools/install-deps.sh

$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/libsara-common.a: $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libsara-daemon.a: $(DAEMON_LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/sarad: $(call obj,daemon/main.cpp) $(BUILD)/libsara-daemon.a $(BUILD)/libsara-common.a
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/libsara-nodeagent.a: $(call obj,$(NODEAGENT_LIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/sara-nodeagent: $(call obj,nodeagent/main.cpp) $(BUILD)/libsara-nodeagent.a $(BUILD)/libsara-common.a
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

# --- gateway: sara-gatewayd (DESIGN §8). Like the node agent, everything but main.cpp is a
# library, so the unit tests (tests/unit/gateway) link the same code the daemon runs. libpcap
# comes with PKG_LIBS (sarad's replay links it too).
$(BUILD)/libsara-gateway.a: $(call obj,$(GATEWAY_LIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/sara-gatewayd: $(call obj,gateway/main.cpp) $(BUILD)/libsara-gateway.a $(BUILD)/libsara-common.a
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

# --- saractl: the operator's command line for sarad's control socket (DESIGN §10). Everything
# but main.cpp is a library (argument parsing, tables), linked into the
# unit tests (tests/unit/saractl) too. Listed after `all:` is read, so it is added to it here.
SARACTL_LIB_SRC := $(filter-out saractl/main.cpp,$(sort $(wildcard saractl/*.cpp)))
BINARIES += $(BUILD)/saractl
all: $(BUILD)/saractl
integration: $(BUILD)/saractl
$(BUILD)/libsara-ctl.a: $(call obj,$(SARACTL_LIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
# The socket exchange itself is common/net's line_control_client (the node agent's and the
# gateway's clients are the same), taken from libsara-common.a.
$(BUILD)/saractl: $(call obj,saractl/main.cpp) $(BUILD)/libsara-ctl.a $(BUILD)/libsara-common.a
	$(CXX) $(LDFLAGS) $^ -o $@
$(UNIT_BIN): $(BUILD)/libsara-ctl.a

# --- sip-loadgen: the SIP load generator of make bench-sip (tests/loadgen; issue 16). Everything
# but main.cpp is a library, linked into the unit tests (tests/unit/loadgen) and the fuzz target.
LOADGEN_LIB_SRC := $(filter-out tests/loadgen/main.cpp,$(sort $(wildcard tests/loadgen/*.cpp)))
all: $(BUILD)/sip-loadgen
$(BUILD)/libsara-loadgen.a: $(call obj,$(LOADGEN_LIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/sip-loadgen: $(call obj,tests/loadgen/main.cpp) $(BUILD)/libsara-loadgen.a $(BUILD)/libsara-common.a
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@
$(UNIT_BIN): $(BUILD)/libsara-loadgen.a

# --- the BPF fast path's program (issue 17; daemon/forward/bpf): compiled with Debian's clang
# for the BPF target. asm/types.h lives in the multiarch include folder, which -target bpf does
# not search. sarad and the unit tests load it at run time (next to the binary), so it is an
# order-only prerequisite: every build folder (the sanitizer ones too) gets one, and it never
# lands on a link line.
BPF_CLANG ?= clang-14
BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -I. -I/usr/include/$(shell gcc -dumpmachine)
BPF_OBJ := $(BUILD)/sara_fast_path.bpf.o
$(BPF_OBJ): daemon/forward/bpf/sara_fast_path.bpf.c daemon/forward/bpf/fast_path_abi.h
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@
all: $(BPF_OBJ)
$(UNIT_BIN) $(BUILD)/sarad: | $(BPF_OBJ)

$(UNIT_BIN): $(UNIT_OBJ) $(BUILD)/libsara-gateway.a $(BUILD)/libsara-nodeagent.a $(BUILD)/libsara-daemon.a $(BUILD)/libsara-common.a
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -lboost_unit_test_framework -o $@

test: $(UNIT_BIN)
	$(UNIT_BIN) --log_level=test_suite --report_level=short

# Sanitizer builds live in their own folders so they never mix objects with the normal build.
# `sanitize`: one build with AddressSanitizer and UndefinedBehaviorSanitizer together (they
# combine; two separate builds cost `make check` a whole compile). `asan` and `ubsan` are its
# old names. `tsan`: ThreadSanitizer (it cannot share a build with ASan) for the unit tests
# and for sarad, which then runs one threaded integration test (TSAN_INTEGRATION: queue,
# control-listener, janitor and metrics threads with SIPp calls and /metrics scrapes); any
# report a TSan-built sarad writes (log_path) fails the step. Root, like `make integration`.
SAN_BUILD := build/sanitize
# GCC 12 with both sanitizers at -O2 warns of a memset of 2^64-9 bytes inside std::vector (stringop-overflow, array-bounds)
# (tests/unit/ha/address_watch_test.cpp): a false positive of the instrumented code that
# -Werror would turn into a failed build; neither sanitizer alone shows it.
SAN_NO_FALSE_WARNINGS := -Wno-stringop-overflow -Wno-array-bounds
# -O1 (the later -O wins over CXXFLAGS' -O2), as ASan's documentation suggests: GCC compiles
# this build 25-35 % faster than at -O2 (measured per file: dispatcher_daemon.cpp 25.6 -> 16.5 s,
# session_identifier_test.cpp 29.8 -> 22.5 s), the longest step of `make check` (13.8 min at -O2).
TSAN_BUILD := build/tsan
TSAN_INTEGRATION ?= tests/integration/test_metrics.py
.PHONY: sanitize tsan
sanitize:
	$(MAKE) BUILD=$(SAN_BUILD) \
	    EXTRA_CXXFLAGS="-O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer $(SAN_NO_FALSE_WARNINGS)" \
	    EXTRA_LDFLAGS="-fsanitize=address,undefined" $(SAN_BUILD)/unit-tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(SAN_BUILD)/unit-tests --report_level=short
asan ubsan: sanitize
tsan:
	$(MAKE) BUILD=$(TSAN_BUILD) EXTRA_CXXFLAGS="-fsanitize=thread" EXTRA_LDFLAGS="-fsanitize=thread" \
	    $(TSAN_BUILD)/unit-tests $(TSAN_BUILD)/sarad
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" $(TSAN_BUILD)/unit-tests --report_level=short
	$(MAKE) $(BUILD)/sarad $(BUILD)/sara-nodeagent $(BUILD)/saractl $(TOOL_BINS)
	rm -rf $(TSAN_BUILD)/reports && mkdir -p $(TSAN_BUILD)/reports
	TSAN_OPTIONS="log_path=$(abspath $(TSAN_BUILD))/reports/sarad second_deadlock_stack=1" \
	    SARA_SARAD=$(abspath $(TSAN_BUILD))/sarad SARA_STRICT=1 SARA_BUILD=$(BUILD) $(PYTHON) -m pytest -q -rs $(TSAN_INTEGRATION); \
	rc=$$?; if ls $(TSAN_BUILD)/reports/* >/dev/null 2>&1; then cat $(TSAN_BUILD)/reports/*; \
	    echo "ThreadSanitizer reports from sarad (above)"; exit 1; fi; exit $$rc

# clang's thread-safety analysis (issue 15): the code that shares state between threads, with
# -Wthread-safety as an error. Fields say ABSL_GUARDED_BY(lock) and functions
# ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) (common/util/mutex.hpp); a field touched without its lock
# fails here. Syntax only: nothing is built (g++ builds the binaries and ignores the attributes).
THREAD_SAFETY_SRC := $(sort $(wildcard daemon/dispatch/*.cpp daemon/ha/*.cpp daemon/control/*.cpp \
    daemon/monitor/*.cpp daemon/forward/*.cpp))
.PHONY: thread-safety
thread-safety:
	@for f in $(THREAD_SAFETY_SRC); do \
	    $(CLANGXX) -std=c++20 -fsyntax-only -I. $(PKG_CFLAGS) -Wthread-safety -Werror=thread-safety $$f || exit 1; \
	done; echo "thread-safety: $(words $(THREAD_SAFETY_SRC)) files analysed, no finding"
	@if $(CLANGXX) -std=c++20 -fsyntax-only -I. $(PKG_CFLAGS) -Wthread-safety -Werror=thread-safety \
	    tests/thread_safety/unguarded_access.cpp 2>/dev/null; then \
	    echo "thread-safety: tests/thread_safety/unguarded_access.cpp was accepted: the analysis is not running"; exit 1; \
	fi; echo "thread-safety: an unguarded access is refused, as it must be"

# --- fuzzing (clang libFuzzer + ASan) -------------------------------------------------------
FUZZ_SECONDS ?= 20
FUZZ_BUILD := build/fuzz
FUZZ_BINS := $(patsubst tests/fuzz/%.cpp,$(FUZZ_BUILD)/%,$(FUZZ_SRC))
FUZZ_LIB_OBJ := $(patsubst %.cpp,$(FUZZ_BUILD)/obj/%.o,$(COMMON_SRC) $(DAEMON_LIB_SRC) $(LOADGEN_LIB_SRC))
FUZZ_FLAGS := -std=c++20 -O1 -g -I. $(PKG_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=undefined

$(FUZZ_BUILD)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CLANGXX) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.cpp $(FUZZ_LIB_OBJ)
	$(CLANGXX) $(FUZZ_FLAGS) -fsanitize=fuzzer $^ $(PKG_LIBS) -lpthread -o $@

# Keep the instrumented library objects between fuzz target links.
.SECONDARY: $(FUZZ_LIB_OBJ)
fuzz-build: $(FUZZ_BINS)
# Each target first replays its seed corpus and regression cases, then fuzzes for FUZZ_SECONDS.
fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)
fuzz-long:
	$(MAKE) fuzz FUZZ_SECONDS=600

# --- benchmarks -----------------------------------------------------------------------------
BENCH_BINS := $(patsubst tests/bench/%.cpp,$(BUILD)/bench/%,$(BENCH_SRC))
$(BUILD)/bench/bench_%: $(call obj,tests/bench/bench_%.cpp) $(BUILD)/libsara-daemon.a $(BUILD)/libsara-common.a
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -lbenchmark -o $@
bench: $(BENCH_BINS)
	tests/bench/run.sh $(BUILD)/bench

# The dispatcher's packet path in namespaces (root, ~4 min): plain forwarding, fast path,
# queue path, new flows and latency against a minimal NFQUEUE consumer.
bench-datapath: $(BUILD)/sarad $(TOOL_BINS)
	BUILD=$(BUILD) tests/bench/datapath/run.sh

# sarad with a full session table (issue 16; root, ~4 min): the longest wait of a queued packet
# for the dispatcher's lock and the latency while a million sessions expire, are saved and a
# reload happens, against an empty table in the same run; peak RSS.
.PHONY: bench-table
bench-table: $(BUILD)/sarad $(BUILD)/saractl $(TOOL_BINS)
	SARA_BUILD=$(BUILD) $(PYTHON) tests/bench/table/run.py

# Several active dispatchers (issue 19; root, about a minute): the replication's work per call
# against the dispatch's, the model for N = 1..16 (bench_mesh_sync), and how many clients
# Linux's ECMP moves when one of N dispatchers leaves, classic and resilient (ecmp/remap.py).
.PHONY: bench-mesh
bench-mesh: $(BUILD)/bench/bench_mesh_sync
	$(BUILD)/bench/bench_mesh_sync --benchmark_min_time=0.2 --benchmark_repetitions=3 \
	    --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
	$(PYTHON) tests/bench/ecmp/remap.py

# SIP calls through SARA against Kamailio's dispatcher module (issues 9, 16; root, under 15 min):
# direct, kamailio and sara side by side in namespaces, the call rate ramped until calls fail,
# placed by sip-loadgen (the results and the targets) and then by SIPp (for comparison).
# Installs Debian's kamailio if it is missing (not a project dependency). Table and the line
# `sara N cps, kamailio N cps, direct N cps` on stdout; every run in $(BUILD)/bench/sip.json.
# IP_VERSION=6: everything over IPv6 in a dual-stack cluster (run.py --ipv6), as
# IP_VERSION=6 make bench-datapath does; then in $(BUILD)/bench/sip6.json. BENCH_SIP_ARGS: more
# run.py options, e.g. a short ramp "--rates 1600,3200 --reps 1 --refine 0 --budget 200".
BENCH_SIP_V6 := $(filter 6,$(IP_VERSION))
.PHONY: bench-sip
bench-sip: deps
	@case "$(IP_VERSION)" in ""|4|6) ;; *) echo "bench-sip: IP_VERSION is 4 or 6" >&2; exit 2 ;; esac
	$(MAKE) $(BUILD)/sarad $(BUILD)/sip-loadgen
	$(PYTHON) tests/bench/sip/run.py --sarad $(BUILD)/sarad --loadgen $(BUILD)/sip-loadgen \
		$(if $(BENCH_SIP_V6),--ipv6) --out $(BUILD)/bench/sip$(BENCH_SIP_V6).json $(BENCH_SIP_ARGS)

# --- test tools: small programs the integration tests drive (tests/tools/NAME.cpp -> build/tools/NAME)
$(BUILD)/tools/%: $(call obj,tests/tools/%.cpp) $(BUILD)/libsara-daemon.a $(BUILD)/libsara-common.a
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@
tools: $(TOOL_BINS)

# --- simulator: sara-sim runs the daemon's own admission (Sa2cAdmission) and schedulers
# (make_scheduler) in simulated time, so it links the daemon library rather than copying code.
# `make sim-report` sweeps it and writes CSV + PNG plots to $(BUILD)/sim-report (sim/README.md);
# `make sim-test` runs its smoke tests (tests/sim).
SIM_SRC := $(sort $(wildcard sim/*.cpp))
$(BUILD)/sara-sim: $(call obj,$(SIM_SRC)) $(BUILD)/libsara-daemon.a $(BUILD)/libsara-common.a
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@
.PHONY: sim-report sim-test overload
# The real overload run (issue 5): SIPp at 2x the cluster's capacity through sarad, SA2C on and
# off side by side (about 2 minutes; a benchmark, not part of `make check`).
overload: $(BUILD)/sarad
	$(PYTHON) tests/overload/run.py
sim-report: $(BUILD)/sara-sim
	sim/report.sh $(BUILD)/sara-sim $(BUILD)/sim-report
sim-test: $(BUILD)/sara-sim
	SARA_BUILD=$(BUILD) $(PYTHON) -m pytest -q tests/sim

# --- integration and end to end -------------------------------------------------------------
replay-test: $(BUILD)/sarad
	$(PYTHON) -m pytest -q tests/replay

# Namespace cluster with real peers (root). SARA_STRICT=1: a skipped test fails.
integration: $(BUILD)/sarad $(BUILD)/sara-nodeagent $(BUILD)/sara-gatewayd $(TOOL_BINS) $(BUILD)/sip-loadgen
	SARA_STRICT=1 SARA_BUILD=$(BUILD) $(PYTHON) -m pytest -q -rs $(PYTEST_ARGS) tests/integration

captures: $(BUILD)/sarad
	tests/captures/make-captures.sh tests/data

demo: deps
	$(MAKE) all
	$(PYTHON) tools/demo.py

# Two active dispatchers behind an upstream router's ECMP (issue 19): FRR on the router and on
# each dispatcher, calls from 32 client addresses, one dispatcher killed half way (root, ~1 min).
demo-mesh: deps
	$(MAKE) all
	$(PYTHON) tools/demo-mesh.py

# The offline replay of the capture corpus (what `make demo` showed before the live cluster).
demo-replay: $(BUILD)/sarad
	tools/demo-replay.sh

# Each step's start time is printed (`check: HH:MM:SS step`) so that a CI log shows where
# the ~40 minutes go; the integration step lists its slowest tests.
CHECK_STEP = @echo "check: $$(date +%T) $(1)"
check: deps
	$(call CHECK_STEP,all)
	$(MAKE) all
	$(call CHECK_STEP,test)
	$(MAKE) test
	$(call CHECK_STEP,replay-test)
	$(MAKE) replay-test
	$(call CHECK_STEP,sim-test)
	$(MAKE) sim-test
	$(call CHECK_STEP,integration)
	$(MAKE) integration PYTEST_ARGS=--durations=20
	$(call CHECK_STEP,sanitize)
	$(MAKE) sanitize
	$(call CHECK_STEP,thread-safety)
	$(MAKE) thread-safety
	$(call CHECK_STEP,tsan)
	$(MAKE) tsan
	$(call CHECK_STEP,fuzz)
	$(MAKE) fuzz FUZZ_SECONDS=10
	$(call CHECK_STEP,package-test)
	$(MAKE) package-test
	$(call CHECK_STEP,done)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)

# --- Debian packages and their container test (issue 8; packaging/, systemd/) --------------
# `make deb`: dpkg-buildpackage -us -uc -b in a staging folder ($(BUILD)/deb/pkg, a copy of
# packaging/debian); debian/rules builds the four packaged programs with
# BUILD=$(BUILD)/deb/build (the packaging's hardening flags, so not the objects of `make all`)
# and installs them, etc/*.yaml, systemd/*.service, packaging/man and packaging/bash-completion.
# The .debs land in $(BUILD)/deb/.
# `make package-test` (root; part of `make check`): every source file's SPDX licence line
# (tools/spdx.sh), saractl's completion test, lintian on the
# .debs and on packaging/debian as a source package (any error or warning fails; justified ones
# are in packaging/debian/*.lintian-overrides), then the packages in a booted systemd-nspawn
# container (tests/packaging/run.sh; a cold root filesystem cache needs the Debian mirror: no
# network fails the test, it never skips).
.PHONY: deb package-test
deb:
	rm -rf $(BUILD)/deb/pkg $(BUILD)/deb/*.deb $(BUILD)/deb/*.ddeb $(BUILD)/deb/*.buildinfo $(BUILD)/deb/*.changes
	mkdir -p $(BUILD)/deb/pkg && cp -r packaging/debian $(BUILD)/deb/pkg/debian
	cd $(BUILD)/deb/pkg && SARA_TOP=$(CURDIR) SARA_PKG_BUILD=$(abspath $(BUILD))/deb/build dpkg-buildpackage -us -uc -b
	ls -l $(BUILD)/deb/*.deb
package-test: deb
	tools/spdx.sh --check
	tests/packaging/completion-test.sh packaging/bash-completion/saractl $(BUILD)/deb/build/saractl
	tests/packaging/lint.sh $(BUILD)/deb
	tests/packaging/run.sh $(BUILD)/deb

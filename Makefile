# Ringlet: `make demo` (the main job) and `make test` (everything).
# Both install what they need on a fresh machine, idempotently.

SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := demo

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
# Python: one virtualenv in the repository; PyO3 builds against it (else it rebuilds).
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
export PYO3_PYTHON := $(PY)
PY_PACKAGES := maturin pytest hypothesis mypy nbclient nbformat ipykernel matplotlib psutil requests schemathesis pyarrow pandas duckdb
# Miri runs the unit tests and these integration tests (proptest is too slow there),
# in two processes at once (Miri interprets on one core; cargo holds its lock only
# while building).
MIRI := MIRIFLAGS="-Zmiri-disable-isolation" $(CARGO) +nightly miri test -p ringlet -q
MIRI_A := --lib --test stress --test queue_stress --test queue --test group
MIRI_B := --test bus --test subscription --test topic --test share --test journal --test faults

# Prints a stage's name and, when it ends, how long it took.
define stage
	@start=$$(date +%s); echo "==> $(1)"; $(2); echo "<== $(1): $$(( $$(date +%s) - start )) s"
endef

JS_DIR := bindings-wasm
# One version for the crate, the wheel and the npm package: the workspace's.
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -1)
DIST := $(CURDIR)/dist
WASM_TEST := CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner $(CARGO) test -p ringlet-wasm --target wasm32-unknown-unknown --release --no-default-features
# The test runner's HTTP server sometimes never answers one of several module
# requests Chromium makes at once: the page never loads and chromedriver waits
# ("Timed out receiving message from renderer", no test run at all). The
# package's JS is one module (js/glue.js) so the page makes one such request at
# a time; should it still happen, the stage runs once more. A failing test fails
# both times.
CHROME_TEST := CHROMEDRIVER=/usr/bin/chromedriver $(WASM_TEST) --test browser

.PHONY: demo tour test http http-load setup-rust setup setup-py setup-js setup-kafka setup-http kafka-up kafka-down kafka py-kafka bench-kafka js js-build js-node js-types js-wasm-test js-e2e playground fmt clippy doc docsrs unit stress loom miri wasm tsan fuzz fuzz-smoke soak bench-build smoke bench python py-build py-test py-stubs py-notebooks dist dist-py dist-js dist-crates installed

# The tour in the terminal, then the playground served on 127.0.0.1 (Ctrl-C stops it).
demo: setup-rust tour setup-js js-build
	node $(JS_DIR)/serve.mjs $${PORT:-8080}

tour: setup-rust
	$(CARGO) run --release -q -p ringlet-examples --bin tour

# --- installs (each checks before it installs) -------------------------------

setup-rust:
	@command -v $(CARGO) >/dev/null || { echo "cargo is required (rustup.rs)"; exit 1; }

setup-py:
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -c "import maturin, pytest, hypothesis, mypy, nbclient, nbformat, ipykernel, matplotlib, psutil, requests, schemathesis, pyarrow, pandas, duckdb" 2>/dev/null || $(PY) -m pip install -q $(PY_PACKAGES)

# JS: the wasm target, the wasm-bindgen CLI matching the pinned crate, Debian's
# Chromium + chromedriver, and the npm dev tools (playwright-core, typescript, rxjs).
setup-js: setup-rust
	@command -v node >/dev/null || { echo "Node.js 20 is required"; exit 1; }
	@rustup target list --installed | grep -q '^wasm32-unknown-unknown$$' || rustup target add wasm32-unknown-unknown
	@wasm-bindgen --version 2>/dev/null | grep -q ' 0.2.129$$' || $(CARGO) install wasm-bindgen-cli --version 0.2.129 --locked
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }
	@test -d $(JS_DIR)/node_modules/playwright-core -a -d $(JS_DIR)/node_modules/typescript -a -d $(JS_DIR)/node_modules/rxjs -a -x $(JS_DIR)/node_modules/.bin/esbuild -a -d $(JS_DIR)/node_modules/ajv-draft-04 || (cd $(JS_DIR) && npm ci --no-audit --no-fund)

# Kafka: Java 17 and Maven (the broker's jars come from Maven Central).
setup-kafka:
	@command -v java >/dev/null && command -v mvn >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless maven; }

# A single-node Apache Kafka broker (KRaft) on 127.0.0.1:$${KAFKA_PORT:-19092},
# its storage under target/kafka; idempotent.
kafka-up: setup-kafka
	@kafka/broker/up.sh

kafka-down:
	@kafka/broker/down.sh

# HTTP: curl and wrk (Debian's) for the HTTP stage's clients and load run.
setup-http:
	@command -v curl >/dev/null && command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl wrk; }

setup: setup-rust setup-py setup-js setup-kafka setup-http
	@rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
	@rustup target list --installed | grep -q '^wasm32-unknown-unknown$$' || rustup target add wasm32-unknown-unknown
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@rustup +nightly component list --installed 2>/dev/null | grep -q '^miri' || rustup +nightly component add miri rust-src
	@$(CARGO) +nightly miri setup >/dev/null 2>&1 || $(CARGO) +nightly miri setup
	@cargo-fuzz --version 2>/dev/null | grep -q ' 0.13.2$$' || $(CARGO) install cargo-fuzz --version 0.13.2 --locked

# --- checks --------------------------------------------------------------------

test: setup
	@total=$$(date +%s)
	$(MAKE) --no-print-directory fmt clippy doc docsrs unit stress loom miri tsan fuzz-smoke wasm smoke kafka python js http dist-js dist-crates installed
	echo "==> all checks passed in $$(( $$(date +%s) - total )) s"

fmt:
	$(call stage,rustfmt,$(CARGO) fmt --all -- --check && $(CARGO) fmt --manifest-path fuzz/Cargo.toml -- --check)

clippy:
	$(call stage,clippy,$(CARGO) clippy --workspace --all-targets -q -- -D warnings)

doc:
	$(call stage,rustdoc,RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps -q)

# The crate docs as docs.rs builds them (nightly, `--cfg docsrs`, every feature).
docsrs:
	$(call stage,rustdoc as docs.rs,RUSTDOCFLAGS="--cfg docsrs -D warnings" CARGO_TARGET_DIR=target/docsrs $(CARGO) +nightly doc -p ringlet --no-deps --all-features -q)

# The test broker end to end with Kafka's own console tools, then the bridge's
# tests against it (checked with Kafka's console tools and Java partitioner; one
# restarts the broker mid-traffic); stopped afterwards, also on failure.
KAFKA_TESTS := $(CARGO) test -p ringlet-kafka --features broker-tests -q -- --nocapture && $(CARGO) test -p ringlet-examples --features broker-tests -q --test split
kafka: setup-kafka
	$(call stage,clippy (the broker tests),$(CARGO) clippy -q -p ringlet-kafka -p ringlet-examples --all-targets --features ringlet-kafka/broker-tests --features ringlet-examples/broker-tests -- -D warnings)
	$(call stage,Kafka broker + the bridge against it (up / console round trip / tests / down),bash -c 'trap kafka/broker/down.sh EXIT; kafka/broker/up.sh && kafka/broker/smoke.sh && $(KAFKA_TESTS)')

unit:
	$(call stage,tests (unit + integration + doctests),$(CARGO) test --workspace -q)

stress:
	$(call stage,stress tests (release),$(CARGO) test -p ringlet --release -q --test stress --test queue_stress --test group_stress)
	$(call stage,durable topics killed 60 times + 15 synced + 15 buffered (release),RINGLET_CRASH_KILLS=60 $(CARGO) test -p ringlet-store --release -q --test durable)
	$(call stage,durable queues killed 50 times (release),RINGLET_CRASH_KILLS=50 $(CARGO) test -p ringlet-store --release -q --test durable_queue)

loom:
	$(call stage,loom models,RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom $(CARGO) test -p ringlet --release -q --lib loom_tests)

miri:
	$(call stage,miri (two processes),{ t=$$(date +%s); $(MIRI) $(MIRI_A) > target/miri-a.log 2>&1; s=$$?; echo "miri: unit and stress tests $$(( $$(date +%s) - t )) s" >> target/miri-a.log; exit $$s; } & a=$$!; t=$$(date +%s); $(MIRI) $(MIRI_B) || { wait $$a; cat target/miri-a.log; exit 1; }; echo "miri: integration tests $$(( $$(date +%s) - t )) s"; wait $$a || { cat target/miri-a.log; exit 1; }; tail -n 1 target/miri-a.log)

# ThreadSanitizer over the core's concurrent tests (std rebuilt instrumented).
TSAN := RUSTFLAGS="-Zsanitizer=thread" CARGO_TARGET_DIR=target/tsan $(CARGO) +nightly test -Zbuild-std --target x86_64-unknown-linux-gnu -p ringlet --profile tsan -q
TSAN_TESTS := --lib --test stress --test queue_stress --test group_stress --test subscription --test queue --test share --test group --test bus --test pattern
tsan:
	$(call stage,ThreadSanitizer (concurrent tests; optimised),TSAN_OPTIONS="halt_on_error=1" $(TSAN) $(TSAN_TESTS))

# Structure-aware fuzz targets (fuzz/): each replays its saved regressions
# (fuzz/regressions/<target>, kept in git) and its corpus, then runs for the
# given seconds. `make test` runs each FUZZ_SECONDS; `make fuzz` FUZZ_LONG.
FUZZ_TARGETS := topic queue groups share segment
FUZZ_SECONDS ?= 30
FUZZ_LONG ?= 600
FUZZ_RUN = cd fuzz && $(CARGO) +nightly fuzz build -O && for t in $(FUZZ_TARGETS); do \
	  mkdir -p corpus/$$t; log=../target/fuzz-$$t.log; \
	  if ! $(CARGO) +nightly fuzz run -O $$t corpus/$$t $$(test -d regressions/$$t && echo regressions/$$t) -- -max_total_time=$(1) -rss_limit_mb=2048 -print_final_stats=1 > $$log 2>&1; then \
	    tail -n 40 $$log; echo "fuzz: $$t failed; the input is under fuzz/artifacts/$$t (replay: cd fuzz && cargo +nightly fuzz run -O $$t <file>)"; exit 1; fi; \
	  echo "fuzz: $$t: $$(sed -n 's/^stat::number_of_executed_units: *//p' $$log) runs in $(1) s; corpus $$(ls corpus/$$t | wc -l) inputs; peak RSS $$(sed -n 's/^stat::peak_rss_mb: *//p' $$log) MB"; \
	done
fuzz-smoke:
	$(call stage,fuzz targets ($(FUZZ_SECONDS) s each),$(call FUZZ_RUN,$(FUZZ_SECONDS)))
# Long: the targets FUZZ_LONG s each, then the Python and JS API fuzzers over
# FUZZ_SEEDS (each seed its own process; the report names a failing seed).
FUZZ_SEEDS ?= 1 2 3 4 5 6 7 8
fuzz: setup py-build js-build
	$(call stage,fuzz targets ($(FUZZ_LONG) s each),$(call FUZZ_RUN,$(FUZZ_LONG)))
	$(call stage,Python API fuzzer (100000 calls per seed),RINGLET_FUZZ_SEEDS="$(FUZZ_SEEDS)" RINGLET_FUZZ_CALLS=100000 $(PY) -m pytest -q -s bindings-py/tests/test_hostile.py)
	$(call stage,JS API fuzzer (300000 calls per seed),for s in $(FUZZ_SEEDS); do RINGLET_FUZZ_SEED=$$s RINGLET_FUZZ_CALLS=300000 node --expose-gc --test $(JS_DIR)/tests/js/fuzz.test.mjs | grep -E '^# (seed|[0-9])|^not ok' ; done)

# A long run that counts every message and samples memory (not in `make test`).
SOAK_MESSAGES ?= 10000000
SOAK_SECONDS ?= 600
soak: setup-rust
	$(call stage,soak ($(SOAK_MESSAGES) messages or $(SOAK_SECONDS) s),$(CARGO) run --release -q -p ringlet-benches --bin soak -- --messages $(SOAK_MESSAGES) --seconds $(SOAK_SECONDS))

wasm:
	$(call stage,wasm32 build of the core,$(CARGO) build -p ringlet --target wasm32-unknown-unknown --release -q)
	$(call stage,clippy (wasm32),$(CARGO) clippy -q -p ringlet-wasm --target wasm32-unknown-unknown --all-targets -- -D warnings)

# JS: build the package, then the Node suites, the types, wasm-bindgen-test in Node
# and headless Chrome, and the playground end to end in Chromium.
js: js-build js-node js-types js-wasm-test js-e2e

js-build: setup-js
	$(call stage,JS package (wasm-bindgen web + node),$(JS_DIR)/build.sh && echo "wasm: $$(wc -c <$(JS_DIR)/pkg/web/ringlet_wasm_bg.wasm) bytes and $$(gzip -9c $(JS_DIR)/pkg/web/ringlet_wasm_bg.wasm | wc -c) gzipped")

js-node:
	$(call stage,node --test,node --expose-gc --test $(JS_DIR)/tests/js/)

js-types:
	$(call stage,tsc --noEmit on a typed usage file,$(JS_DIR)/node_modules/.bin/tsc -p $(JS_DIR)/tests/ts)

js-wasm-test:
	$(call stage,wasm-bindgen-test (Node),$(WASM_TEST) --test node)
	$(call stage,wasm-bindgen-test (headless Chrome),$(CHROME_TEST) || { echo "headless Chrome did not answer: once more"; $(CHROME_TEST); })

js-e2e:
	$(call stage,playground end to end (Chromium),node --test $(JS_DIR)/tests/e2e/)

# The bus over HTTP (ringlet-http's binary) with real clients: a curl session,
# Python's requests, Chromium's EventSource across a kill -9, schemathesis
# against /openapi.json (bounded: fixed seed and example count), and a short
# wrk load run against the bare axum floor. `cargo test` (the unit stage) ran
# the Rust client tests.
HTTP_BIN := $(CURDIR)/target/debug/ringlet-http
HTTP_LOAD_SECONDS ?= 3
http: setup-http setup-py setup-js
	$(call stage,ringlet-http binary,$(CARGO) build -q -p ringlet-http)
	$(call stage,curl session,http/tests/clients/curl.sh $(HTTP_BIN))
	$(call stage,Python requests against the binary,RINGLET_HTTP_BIN=$(HTTP_BIN) $(PY) -m pytest -q -p no:cacheprovider http/tests/clients)
	$(call stage,EventSource in Chromium across a kill -9,RINGLET_HTTP_BIN=$(HTTP_BIN) node --test http/tests/browser/)
	$(call stage,schemathesis against /openapi.json,http/tests/schemathesis/run.sh $(HTTP_BIN) $(VENV)/bin/schemathesis 40)
	$(MAKE) --no-print-directory http-load

http-load: setup-http
	$(call stage,wrk load ($(HTTP_LOAD_SECONDS) s per run),$(CARGO) run --release -q -p ringlet-http --example load -- --seconds $(HTTP_LOAD_SECONDS))

# Not part of `make test`, whose clippy --all-targets type-checks every
# benchmark; `make bench` builds them optimised.
bench-build:
	$(call stage,benchmarks compile,$(CARGO) bench -p ringlet-benches --no-run -q)

smoke:
	$(call stage,demo smoke run,out=$$($(CARGO) run --release -q -p ringlet-examples --bin tour) && grep -q "skipped: 6 }" <<<"$$out" && grep -q "Err(Closed)" <<<"$$out" && grep -q "reason=max_deliveries attempts=3" <<<"$$out" && grep -q 'at-least-once.: ."p2@1"' <<<"$$out" && grep -q '"p3@1"\]$$' <<<"$$out" && grep -q 'kim gets "mow lawn" (attempt 2)' <<<"$$out" && grep -q 'after the restart: offset 2 "ordered cake"' <<<"$$out" && grep -q 'the next publish continues the offsets: 3' <<<"$$out" && echo "tour ran: $$(wc -l <<<"$$out") lines")

# Python: the wheel of `make dist` installed in .venv, then pytest, the stub
# against the module, and the notebooks executed headlessly.
python: py-build py-test py-stubs py-notebooks py-kafka

py-build: dist-py
	$(call stage,pip install the wheel,$(PY) -m pip install -q --force-reinstall --no-deps $(DIST)/ringlet-$(VERSION)-*abi3*.whl)

py-test:
	$(call stage,pytest,cd bindings-py && RINGLET_PY_CRASH_KILLS=50 $(PY) -m pytest -q -p no:cacheprovider --ignore=tests/test_notebooks.py)

py-stubs:
	$(call stage,stubtest + mypy --strict,cd /tmp && $(PY) -m mypy.stubtest ringlet && $(PY) -m mypy --strict --no-incremental $(CURDIR)/bindings-py/python/ringlet)

py-notebooks:
	$(call stage,notebooks,cd bindings-py && $(PY) -m pytest -q -p no:cacheprovider tests/test_notebooks.py)

# ringlet.kafka against the test broker (started and stopped here, also on failure).
py-kafka: setup-kafka
	$(call stage,pytest against the Kafka broker (ringlet.kafka),bash -c 'trap $(CURDIR)/kafka/broker/down.sh EXIT; $(CURDIR)/kafka/broker/up.sh && cd bindings-py && $(PY) -m pytest -q -p no:cacheprovider tests_kafka')

# --- release artifacts: what `pip install`, `npm install` and `cargo add` fetch ----

# dist/: the abi3 wheel and the sdist, the npm tarball, the packaged crate.
dist: dist-py js-build dist-js dist-crates
	@ls -l $(DIST)

dist-py: setup-py
	$(call stage,wheel + sdist (maturin),mkdir -p $(DIST) && rm -f $(DIST)/ringlet-*.whl $(DIST)/ringlet-*.tar.gz && $(PY) -m maturin sdist -m bindings-py/Cargo.toml -o $(DIST) && $(PY) -m maturin build -q --release -m bindings-py/Cargo.toml -o $(DIST) && ls $(DIST)/ringlet-$(VERSION)-*abi3*.whl $(DIST)/ringlet-$(VERSION).tar.gz)

# The npm tarball of the package js-build made.
dist-js:
	$(call stage,npm pack,mkdir -p $(DIST) && rm -f $(DIST)/ringlet-*.tgz && cd $(JS_DIR)/pkg && npm pack -q --pack-destination $(DIST) >/dev/null && ls $(DIST)/ringlet-$(VERSION).tgz)

dist-crates: setup-rust
	$(call stage,cargo package + publish --dry-run,$(CARGO) package -q -p ringlet --allow-dirty && $(CARGO) publish -q -p ringlet --dry-run --no-verify --allow-dirty && mkdir -p $(DIST) && cp target/package/ringlet-$(VERSION).crate $(DIST)/)

# Each artifact installed and used as a user would (release/check.sh).
installed:
	$(call stage,the wheel in a fresh virtualenv,release/check.sh python)
	$(call stage,the tarball in a Node project,release/check.sh node)
	$(call stage,the tarball in a Vite app in Chromium,release/check.sh vite)
	$(call stage,the packaged crate in a Cargo project,release/check.sh cargo)

# --- benchmarks (run with nothing else on the machine) --------------------------

bench: setup-rust setup-py
	$(CARGO) bench -p ringlet-benches --bench topic
	$(CARGO) bench -p ringlet-benches --bench queue
	$(CARGO) bench -p ringlet-benches --bench journal
	$(CARGO) bench -p ringlet-benches --bench streams
	$(CARGO) bench -p ringlet-benches --bench durable
	$(CARGO) bench -p ringlet-benches --bench products
	$(CARGO) run --release -q -p ringlet-benches --bin ratios
	$(MAKE) --no-print-directory py-build
	$(PY) bindings-py/bench/bench.py
	$(PY) bindings-py/bench/lake_bench.py
	$(MAKE) --no-print-directory js-build
	node $(JS_DIR)/bench/bench.mjs
	$(MAKE) --no-print-directory bench-kafka
	$(MAKE) --no-print-directory http-load HTTP_LOAD_SECONDS=10

# The Kafka bridge against librdkafka alone, on the test broker (started and
# stopped here): throughput both ways, latency across two buses.
bench-kafka: setup-kafka
	bash -c 'trap $(CURDIR)/kafka/broker/down.sh EXIT; $(CURDIR)/kafka/broker/up.sh && $(CARGO) run --release -q -p ringlet-kafka --example throughput'

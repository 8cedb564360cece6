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
PY_PACKAGES := maturin pytest hypothesis mypy nbclient nbformat ipykernel matplotlib psutil
# Miri runs the unit tests and these integration tests (proptest is too slow there).
MIRI_TESTS := --lib --test bus --test subscription --test topic --test stress --test queue --test queue_stress --test group --test share --test journal

# Prints a stage's name and, when it ends, how long it took.
define stage
	@start=$$(date +%s); echo "==> $(1)"; $(2); echo "<== $(1): $$(( $$(date +%s) - start )) s"
endef

.PHONY: demo tour test setup-rust setup setup-py fmt clippy doc unit stress loom miri wasm bench-build smoke bench python py-build py-test py-stubs py-notebooks

demo: setup-rust tour

tour: setup-rust
	$(CARGO) run --release -q -p ringlet-examples --bin tour

# --- installs (each checks before it installs) -------------------------------

setup-rust:
	@command -v $(CARGO) >/dev/null || { echo "cargo is required (rustup.rs)"; exit 1; }

setup-py:
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -c "import maturin, pytest, hypothesis, mypy, nbclient, nbformat, ipykernel, matplotlib, psutil" 2>/dev/null || $(PY) -m pip install -q $(PY_PACKAGES)

setup: setup-rust setup-py
	@rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
	@rustup target list --installed | grep -q '^wasm32-unknown-unknown$$' || rustup target add wasm32-unknown-unknown
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@rustup +nightly component list --installed 2>/dev/null | grep -q '^miri' || rustup +nightly component add miri rust-src
	@$(CARGO) +nightly miri setup >/dev/null 2>&1 || $(CARGO) +nightly miri setup

# --- checks --------------------------------------------------------------------

test: setup
	@total=$$(date +%s)
	$(MAKE) --no-print-directory fmt clippy doc unit stress loom miri wasm bench-build smoke python
	echo "==> all checks passed in $$(( $$(date +%s) - total )) s"

fmt:
	$(call stage,rustfmt,$(CARGO) fmt --all -- --check)

clippy:
	$(call stage,clippy,$(CARGO) clippy --workspace --all-targets -q -- -D warnings)

doc:
	$(call stage,rustdoc,RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps -q)

unit:
	$(call stage,tests (unit + integration + doctests),$(CARGO) test --workspace -q)

stress:
	$(call stage,stress tests (release),$(CARGO) test -p ringlet --release -q --test stress --test queue_stress --test group_stress)

loom:
	$(call stage,loom models,RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom $(CARGO) test -p ringlet --release -q --lib loom_tests)

miri:
	$(call stage,miri,MIRIFLAGS="-Zmiri-disable-isolation" $(CARGO) +nightly miri test -p ringlet -q $(MIRI_TESTS))

wasm:
	$(call stage,wasm32 build of the core,$(CARGO) build -p ringlet --target wasm32-unknown-unknown --release -q)

bench-build:
	$(call stage,benchmarks compile,$(CARGO) bench --workspace --no-run -q)

smoke:
	$(call stage,demo smoke run,out=$$($(CARGO) run --release -q -p ringlet-examples --bin tour) && grep -q "skipped: 6 }" <<<"$$out" && grep -q "Err(Closed)" <<<"$$out" && grep -q "reason=max_deliveries attempts=3" <<<"$$out" && grep -q 'at-least-once.: ."p2@1"' <<<"$$out" && grep -q '"p3@1"\]$$' <<<"$$out" && grep -q 'kim gets "mow lawn" (attempt 2)' <<<"$$out" && echo "tour ran: $$(wc -l <<<"$$out") lines")

# Python: `pip install ./bindings-py` (the maturin backend), then pytest, the stub
# against the module, and the notebooks executed headlessly.
python: py-build py-test py-stubs py-notebooks

py-build: setup-py
	$(call stage,pip install ./bindings-py,$(PY) -m pip install -q --force-reinstall --no-deps ./bindings-py)

py-test:
	$(call stage,pytest,cd bindings-py && $(PY) -m pytest -q -p no:cacheprovider --ignore=tests/test_notebooks.py)

py-stubs:
	$(call stage,stubtest + mypy --strict,cd /tmp && $(PY) -m mypy.stubtest ringlet && $(PY) -m mypy --strict --no-incremental $(CURDIR)/bindings-py/python/ringlet)

py-notebooks:
	$(call stage,notebooks,cd bindings-py && $(PY) -m pytest -q -p no:cacheprovider tests/test_notebooks.py)

# --- benchmarks (run with nothing else on the machine) --------------------------

bench: setup-rust setup-py
	$(CARGO) bench -p ringlet-benches --bench topic
	$(CARGO) bench -p ringlet-benches --bench queue
	$(CARGO) bench -p ringlet-benches --bench journal
	$(CARGO) run --release -q -p ringlet-benches --bin ratios
	$(MAKE) --no-print-directory py-build
	$(PY) bindings-py/bench/bench.py

"""The seeded fuzzer of the Python API (`hostile.py`), bounded: each seed in its
own process, so a crash or a hang is caught and reported with its seed.

`RINGLET_FUZZ_SEEDS` (default 4 seeds) and `RINGLET_FUZZ_CALLS` (default 5,000
per seed) set how much; `make fuzz` runs it longer.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
SEEDS = [int(s) for s in os.environ.get("RINGLET_FUZZ_SEEDS", "1 2 3 4").split()]
CALLS = int(os.environ.get("RINGLET_FUZZ_CALLS", "5000"))


@pytest.mark.parametrize("seed", SEEDS)
def test_hostile_calls_get_typed_errors(seed, tmp_path):
    last = tmp_path / "last-call.txt"
    env = dict(os.environ, RINGLET_FUZZ_LAST=str(last))
    r = subprocess.run(
        [sys.executable, str(HERE / "hostile.py"), str(seed), str(CALLS)],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
    )
    where = last.read_text() if last.exists() else "?"
    assert r.returncode == 0, (
        f"seed {seed} failed (exit {r.returncode}) at {where}\n"
        f"replay: python bindings-py/tests/hostile.py {seed} {CALLS}\n{r.stderr[-4000:]}"
    )
    assert "panicked" not in r.stderr, r.stderr[-4000:]
    print(r.stdout.strip())

"""The README's Python examples run as written, and on the system clock too."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"
# The Kafka examples need a broker: `tests_kafka/test_readme_kafka.py` runs them.
BLOCKS = [
    b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S) if "ringlet.kafka" not in b
]


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("clock", ["as written", "system"])
@pytest.mark.parametrize("n", range(len(BLOCKS)))
def test_a_readme_example_runs_and_exits(n, clock, tmp_path):
    code = BLOCKS[n]
    if clock == "system":
        code = code.replace("ringlet.Bus(clock=ringlet.ManualClock())", "ringlet.Bus()")
    # Its own process: it must end by itself (no thread or timer left running).
    # In a scratch directory: the durability example keeps a data directory.
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr

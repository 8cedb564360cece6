"""The README's Kafka examples run as written against the test broker."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S) if "ringlet.kafka" in b]
BOOTSTRAP = f"127.0.0.1:{os.environ.get('KAFKA_PORT', '19092')}"


def test_the_readme_has_a_kafka_example():
    assert BLOCKS


@pytest.mark.parametrize("n", range(len(BLOCKS)))
def test_a_kafka_example_runs_and_exits(n, tmp_path):
    # The README names the default port; a broker started on another one is used instead.
    code = BLOCKS[n].replace("127.0.0.1:19092", BOOTSTRAP)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr

"""The notebooks, executed headlessly, with assertions on what they print."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent.parent / "notebooks"


def run(name: str) -> tuple[str, list[dict]]:
    nb = nbformat.read(HERE / name, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    text, outputs = [], []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            outputs.append(out)
            if out.get("name") == "stdout":
                text.append(out["text"])
            assert out.get("output_type") != "error", out
    return "".join(text), outputs


def html_outputs(outputs: list[dict]) -> list[str]:
    return [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]


def test_queue_vs_topic():
    text, outputs = run("queue_vs_topic.ipynb")
    assert "topic reader billing   saw 6 events: [0, 1, 2, 3, 4, 5]" in text
    assert "topic reader analytics saw 6 events: [0, 1, 2, 3, 4, 5]" in text
    assert "each event handled once: True" in text
    assert "left in the queue: 0" in text
    assert "still retained in the topic: 6 records" in text
    html = html_outputs(outputs)
    assert html and "orders" in html[-1] and "packing" in html[-1]


def test_event_sourcing():
    text, outputs = run("event_sourcing.ipynb")
    assert "acc-1 balance rebuilt from its events: 75" in text
    assert "acc-2 balance rebuilt from its events: 50" in text
    assert "after one more event: {'balance': 30, 'transactions': 2}" in text
    assert "read model agrees with a full replay: True" in text
    assert "projection lag: 0" in text
    assert any("balances-view" in h for h in html_outputs(outputs))


def test_architecture_prototype():
    text, outputs = run("architecture.ipynb")
    assert "orders placed: 80" in text
    assert "orders shipped: 80 (every one" in text
    assert "backlog at the end: 0" in text
    backlog = int(text.split("largest shipping backlog: ")[1].split()[0])
    assert backlog >= 8, text
    redelivered = int(text.split("redelivered after the crash: ")[1].split()[0])
    assert redelivered >= 1
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert (HERE / "out" / "lag.png").stat().st_size > 5_000


@pytest.fixture(autouse=True)
def _kernel_quiet(monkeypatch):
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def test_clickstream_windows_and_sessions():
    text, outputs = run("clickstream.ipynb")
    assert "per-minute counts agree with a batch computation: True" in text
    assert "sessions agree with a batch computation: True" in text
    dropped = int(text.split("late clicks dropped by the per-minute window: ")[1].split()[0])
    assert dropped >= 1, text  # some clicks are later than the 30 s grace
    assert "late clicks dropped by the session window: 0" in text
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs)  # describe()
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert (HERE / "out" / "clickstream.png").stat().st_size > 5_000


def test_durable_bank():
    text, outputs = run("durable_bank.ipynb")
    assert "acc-1 in this kernel: balance 75, version 2" in text
    assert "acc-1 rebuilt in a new process: balance 75, version 2" in text
    assert "acc-2 rebuilt in a new process: balance 50, version 1" in text
    assert "exit status: -9" in text
    assert "acc-1: balance 80 after 3 transactions (version 3)" in text
    assert "acc-2: balance 30 after 2 transactions (version 2)" in text
    assert "stale writer refused: expected version 2, the account is at 3" in text
    assert any("accounts" in h for h in html_outputs(outputs))


def test_stream_to_lake():
    text, outputs = run("stream_to_lake.ipynb")
    assert "published: 6000 clicks on 3 partitions" in text
    assert "exported: 6000 records in" in text
    assert "topic=web.clicks.v1/date=2026-12-04/hour=09" in text and "hour=11" in text
    assert "group 'lake' lag: 0" in text
    assert "records in the lake: 6000 — each once: True" in text
    assert "lake agrees with the retained records: True" in text
    assert "to_pandas: 6000 rows" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert (HERE / "out" / "lake_views.png").stat().st_size > 5_000
    html = html_outputs(outputs)
    assert any("web.clicks.v1" in h and "pii:pseudonymous" in h and "lake" in h for h in html)

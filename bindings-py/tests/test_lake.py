"""ringlet.lake: files the sink writes, read back by independent readers
(pyarrow, pandas, DuckDB), and a sink process killed with SIGKILL at random
moments leaving no duplicate and no torn file."""

import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import ringlet
import ringlet.lake

# 2026-12-04T14:00:00Z
T0 = 1_796_392_800_000

SCHEMA = {
    "type": "object",
    "properties": {
        "page": {"type": "string"},
        "ms": {"type": "integer"},
        "score": {"type": "number"},
        "bot": {"type": "boolean"},
    },
    "required": ["page", "ms"],
    "additionalProperties": False,
}


def lake_files(root: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_parquet_files_read_back_with_pyarrow_pandas_and_duckdb(tmp_path: pathlib.Path) -> None:
    bus = ringlet.Bus()
    clicks = bus.topic("web.clicks", partitions=2, schema=SCHEMA)
    sent = []
    for i in range(300):
        v = {"page": f"/p{i % 7}", "ms": i, "score": i / 4, "bot": i % 10 == 0}
        # Two hours of clicks.
        clicks.publish(v, key=f"u{i % 13}", headers={"source": "web"}, timestamp=T0 + i * 24_000)
        sent.append(v)
    with ringlet.lake.ParquetSink(bus, "web.clicks", tmp_path, max_records=50) as sink:
        assert sink.run_until_idle() == 300
        assert sink.stats["pending"] > 0
        assert sink.flush() >= 1
        assert sink.stats["records"] == 300 and sink.stats["pending"] == 0
        assert sink.folder == tmp_path / "topic=web.clicks"
    assert "closed" in repr(sink)
    assert sink.stats["records"] == 300  # what it closed with
    with pytest.raises(ringlet.Closed):
        sink.run_until_idle()

    names = [p.relative_to(tmp_path).as_posix() for p in lake_files(tmp_path)]
    assert all(n.startswith("topic=web.clicks/date=2026-12-04/hour=1") for n in names), names
    assert {n.split("/")[2] for n in names} == {"hour=14", "hour=15"}
    assert not any(".tmp" in n for n in names)

    # pyarrow: the Hive folders become columns; the records are exactly those sent.
    table = ds.dataset(tmp_path, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 300
    assert table.schema.field("timestamp").type == pa.timestamp("ms", tz="UTC")
    assert table.schema.field("offset").type == pa.int64()
    assert table.schema.field("ms").type == pa.int64()
    assert table.schema.field("score").type == pa.float64()
    assert table.schema.field("bot").type == pa.bool_()
    assert "value" not in table.schema.names and "value_extra" not in table.schema.names
    rows = sorted(table.select(["page", "ms", "score", "bot"]).to_pylist(), key=lambda r: r["ms"])
    assert rows == sent

    # pandas, one file at a time and the whole folder.
    df = pd.read_parquet(tmp_path / "topic=web.clicks")
    assert len(df) == 300 and df["ms"].is_unique
    assert str(df["timestamp"].dtype).startswith("datetime64[ms, UTC]")
    one = pd.read_parquet(lake_files(tmp_path)[0])
    assert list(one.columns[:5]) == ["partition", "offset", "timestamp", "key", "headers"]
    assert one["headers"].iloc[0][0]["name"] == "source"
    assert one["headers"].iloc[0][0]["value"] == b"web"

    # DuckDB SQL over the folder.
    con = duckdb.connect()
    glob = str(tmp_path / "**" / "*.parquet")
    n, pages, hours = con.execute(
        f"SELECT count(*), count(DISTINCT page), count(DISTINCT hour) "
        f"FROM read_parquet('{glob}', hive_partitioning = true)"
    ).fetchone()
    assert (n, pages, hours) == (300, 7, 2)
    per_partition = con.execute(
        f"SELECT partition, count(*), min(\"offset\"), max(\"offset\") FROM read_parquet('{glob}') "
        "GROUP BY partition ORDER BY partition"
    ).fetchall()
    ends = clicks.end_offsets()
    assert per_partition == [(p, ends[p], 0, ends[p] - 1) for p in range(2)]
    # The sink's group has no lag: its commits came after each file.
    entry = next(e for e in bus.catalog() if e["name"] == "web.clicks")
    assert entry["consumers"] == [{"kind": "group", "name": "lake", "lag": 0}]


def test_values_without_a_schema_are_json_text_and_json_lines_files(tmp_path: pathlib.Path) -> None:
    bus = ringlet.Bus()
    t = bus.topic("orders")
    t.publish({"id": 1, "lines": [{"sku": "a", "qty": 2}]}, key="c1")
    t.publish("plain text")
    t.publish(None)
    with ringlet.lake.ParquetSink(bus, t, tmp_path / "pq") as sink:
        sink.run_until_idle()
    df = pd.read_parquet(tmp_path / "pq")
    assert [None if pd.isna(v) else json.loads(v) for v in df["value"]] == [
        {"id": 1, "lines": [{"sku": "a", "qty": 2}]},
        "plain text",
        None,
    ]
    assert df["key"].tolist()[0] == "c1"
    with ringlet.lake.JsonLinesSink(bus, t, tmp_path / "jl", group="jsonl") as sink:
        sink.run_until_idle()
    (f,) = lake_files(tmp_path / "jl")
    assert f.name == "orders+0+00000000000000000000+00000000000000000002.jsonl"
    lines = pd.read_json(f, lines=True)
    assert lines["offset"].tolist() == [0, 1, 2]
    assert lines["value"].tolist()[1] == "plain text"


def test_bad_arguments_and_values_are_clear_errors(tmp_path: pathlib.Path) -> None:
    bus = ringlet.Bus()
    t = bus.topic("t")
    with pytest.raises(ringlet.NotFound):
        ringlet.lake.ParquetSink(bus, "missing", tmp_path)
    with pytest.raises(TypeError, match="topic must be"):
        ringlet.lake.ParquetSink(bus, 3, tmp_path)
    with pytest.raises(ValueError, match="format must be"):
        ringlet.lake.LakeSink(bus, t, tmp_path, format="csv")
    with pytest.raises(TypeError, match="writes Parquet"):
        ringlet.lake.ParquetSink(bus, t, tmp_path, format="jsonl")
    with pytest.raises(ValueError, match="max_records"):
        ringlet.lake.ParquetSink(bus, t, tmp_path, max_records=0)
    with pytest.raises(TypeError, match="max_age"):
        ringlet.lake.ParquetSink(bus, t, tmp_path, max_age="1h")
    t.publish({1, 2})
    sink = ringlet.lake.ParquetSink(bus, t, tmp_path)
    with pytest.raises(ValueError, match=r"offset 0 .*not JSON-shaped: a set is not JSON") as e:
        sink.run_until_idle()
    assert "codec" not in str(e.value)
    assert lake_files(tmp_path) == []


def test_a_lake_ahead_of_its_topic_is_refused(tmp_path: pathlib.Path) -> None:
    bus = ringlet.Bus()
    t = bus.topic("orders")
    t.publish_many([1, 2, 3])
    first = ringlet.lake.ParquetSink(bus, t, tmp_path)
    first.run_until_idle()
    first.close()
    fresh = ringlet.Bus()
    fresh.topic("orders").publish(1)
    with pytest.raises(ValueError, match="durable"):
        ringlet.lake.ParquetSink(fresh, "orders", tmp_path)


CHILD = """
import sys, ringlet, ringlet.lake
data, lake, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
with ringlet.Bus(data_dir=data) as bus:
    t = bus.topic("clicks", durable=True, partitions=3, capacity=100_000)
    # Publish what earlier runs did not (a killed run may have stopped midway).
    for i in range(sum(t.end_offsets()), total):
        t.publish({"n": i, "page": f"/p{i % 5}"}, key=f"u{i % 13}")
    sink = ringlet.lake.ParquetSink(bus, t, lake, max_records=5)
    print("sinking", flush=True)
    while sink.step():
        pass
    sink.close()
    print("done", flush=True)
"""


def test_a_sink_killed_at_random_moments_leaves_each_record_once_in_complete_files(
    tmp_path: pathlib.Path,
) -> None:
    data, lake, total = tmp_path / "data", tmp_path / "lake", 6000
    rng = random.Random(20261204)
    kills = 0
    for attempt in range(12):
        p = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(CHILD), str(data), str(lake), str(total)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert p.stdout is not None
        line = p.stdout.readline()
        if attempt < 6 and line == "sinking\n":
            time.sleep(rng.uniform(0.005, 0.08))
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
                kills += 1
            p.communicate(timeout=60)  # closes the pipes
            continue
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        if "done" in line + out:
            break
    assert kills >= 3, "the sink finished before it could be killed: make the run longer"

    files = lake_files(lake)
    assert files and not any(f.name.startswith(".") for f in files)
    seen = []
    for f in files:
        t = pq.read_table(f)  # each file is complete: a torn one would not read
        part, first, last = f.stem.split("+")[1:]
        offs = t.column("offset").to_pylist()
        assert offs == list(range(int(first), int(last) + 1))
        assert set(t.column("partition").to_pylist()) == {int(part)}
        seen += [json.loads(v)["n"] for v in t.column("value").to_pylist()]
    assert sorted(seen) == list(range(total)), "each record exactly once"
    with ringlet.Bus(data_dir=data) as bus:
        t = bus.topic("clicks")
        assert t.group("lake").committed() == t.end_offsets()


def test_to_arrow_and_to_pandas_hold_the_retained_records() -> None:
    bus = ringlet.Bus()
    clicks = bus.topic("clicks", partitions=2, schema=SCHEMA)
    for i in range(100):
        clicks.publish({"page": f"/p{i % 3}", "ms": i}, key=f"u{i % 4}", partition=i % 2, timestamp=T0 + i)
    table = clicks.to_arrow()
    assert isinstance(table, pa.Table)
    assert table.num_rows == 100
    assert table.column_names == ["partition", "offset", "timestamp", "key", "headers", "page", "ms", "score", "bot"]
    assert table.schema.field("ms").type == pa.int64()
    assert sorted(table.column("ms").to_pylist()) == list(range(100))
    assert table.column("score").null_count == 100
    df = clicks.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert len(df) == 100 and df["ms"].sum() == sum(range(100))
    assert df.groupby("page")["ms"].count().to_dict() == {"/p0": 34, "/p1": 33, "/p2": 33}
    # Every row is a retained record at its place.
    got = sorted(zip(df["partition"], df["offset"], df["ms"]))
    want = sorted((r.partition, r.offset, r.value["ms"]) for r in clicks.subscribe("earliest").poll_many(1000, timeout=0))
    assert got == want
    # start= as for subscribe; "latest" is empty with the same columns.
    assert clicks.to_arrow(start={0: 10, 1: 10}).num_rows == 80
    empty = clicks.to_pandas(start="latest")
    assert len(empty) == 0 and "ms" in empty.columns
    # Without a schema the value is JSON text.
    plain = bus.topic("plain")
    plain.publish([1, 2])
    assert json.loads(plain.to_pandas()["value"][0]) == [1, 2]
    bus.topic("sets").publish({1})
    with pytest.raises(ValueError, match="not JSON-shaped"):
        bus.topic("sets").to_arrow()
    with pytest.raises(TypeError, match="journal"):
        ringlet.Bus(journal=10).get_topic("__journal").to_arrow()

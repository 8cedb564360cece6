"""Lake and dataframe benchmark, peers measured in the same run:

- Parquet export of 100-byte JSON values (records/s, MB/s of values): a
  ``ringlet.lake.ParquetSink`` against pyarrow writing the same records (the same
  columns, the values as JSON text) from a Python list (goal >= 1x);
- ``topic.to_pandas()`` of 1 M records against ``pd.DataFrame`` built from a list
  of dicts holding the same columns (goal >= 5x).

Run with nothing else on the machine: ``make bench``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import ringlet
from ringlet.lake import ParquetSink

EXPORT_N = 200_000
FRAME_N = 1_000_000
T0 = 1_796_400_000_000


def value(i: int) -> dict:
    # About 100 bytes of JSON.
    return {"user": f"user-{i % 997:04d}", "page": "/product/" + str(i % 5000), "ms": i % 900, "ok": True, "n": i}


def best(f, runs=3):
    return min(f() for _ in range(runs))


def export_ringlet(records: int, folder: Path) -> float:
    bus = ringlet.Bus()
    t = bus.topic("clicks", capacity=records)
    for i in range(records):
        t.publish(value(i), key=f"u{i % 997}", timestamp=T0)
    shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    with ParquetSink(bus, t, folder, max_records=records) as sink:
        sink.run_until_idle()
    s = time.perf_counter() - t0
    assert sink.stats["records"] == records
    return s


def export_pyarrow(records: int, folder: Path) -> float:
    rows = [(0, i, T0, f"u{i % 997}", value(i)) for i in range(records)]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    table = pa.table(
        {
            "partition": pa.array([r[0] for r in rows], pa.int32()),
            "offset": pa.array([r[1] for r in rows], pa.int64()),
            "timestamp": pa.array([r[2] for r in rows], pa.timestamp("ms", tz="UTC")),
            "key": pa.array([r[3] for r in rows], pa.string()),
            "headers": pa.array([[] for _ in rows], pa.list_(pa.struct([("name", pa.string()), ("value", pa.binary())]))),
            "value": pa.array([json.dumps(r[4], separators=(",", ":")) for r in rows], pa.string()),
        }
    )
    pq.write_table(table, folder / "clicks.parquet", compression="snappy")
    return time.perf_counter() - t0


def frames() -> tuple[float, float]:
    schema = {
        "type": "object",
        "properties": {
            "user": {"type": "string"},
            "page": {"type": "string"},
            "ms": {"type": "integer"},
            "ok": {"type": "boolean"},
            "n": {"type": "integer"},
        },
    }
    bus = ringlet.Bus()
    t = bus.topic("clicks", capacity=FRAME_N, schema=schema)
    t.publish_many(value(i) for i in range(FRAME_N))
    records = t.subscribe("earliest").poll_many(FRAME_N, timeout=0)
    dicts = [
        {"partition": r.partition, "offset": r.offset, "timestamp": r.timestamp, "key": r.key, **r.value}
        for r in records
    ]
    del records

    def ours() -> float:
        t0 = time.perf_counter()
        df = t.to_pandas()
        s = time.perf_counter() - t0
        assert len(df) == FRAME_N
        return s

    def peer() -> float:
        t0 = time.perf_counter()
        df = pd.DataFrame(dicts)
        s = time.perf_counter() - t0
        assert len(df) == FRAME_N
        return s

    return best(ours), best(peer)


def main() -> None:
    mb = sum(len(json.dumps(value(i), separators=(",", ":"))) for i in range(EXPORT_N)) / 1e6
    with tempfile.TemporaryDirectory() as d:
        ours = best(lambda: export_ringlet(EXPORT_N, Path(d) / "ringlet"))
        peer = best(lambda: export_pyarrow(EXPORT_N, Path(d) / "pyarrow"))
    print(f"{'Parquet export, ringlet ParquetSink':45} {EXPORT_N / ours / 1e6:6.2f} M records/s {mb / ours:7.1f} MB/s")
    print(f"{'Parquet export, pyarrow from a list':45} {EXPORT_N / peer / 1e6:6.2f} M records/s {mb / peer:7.1f} MB/s")
    ratio = peer / ours
    print(f"{'export vs pyarrow':45} {ratio:6.2f}x  goal >= 1x: {'met' if ratio >= 1 else 'MISSED'}")
    ours_f, peer_f = frames()
    print(f"{'to_pandas(), 1 M records':45} {ours_f * 1000:7.0f} ms")
    print(f"{'pd.DataFrame(list of dicts), 1 M records':45} {peer_f * 1000:7.0f} ms")
    ratio = peer_f / ours_f
    print(f"{'to_pandas vs DataFrame(list of dicts)':45} {ratio:6.2f}x  goal >= 5x: {'met' if ratio >= 5 else 'MISSED'}")


if __name__ == "__main__":
    main()

"""Export topics to a data lake: Parquet or JSON Lines files partitioned by hour.

>>> import ringlet, ringlet.lake                                  # doctest: +SKIP
>>> bus = ringlet.Bus()                                           # doctest: +SKIP
>>> orders = bus.topic("orders")                                  # doctest: +SKIP
>>> orders.publish({"id": 1, "total": 30.5})                      # doctest: +SKIP
>>> with ringlet.lake.ParquetSink(bus, "orders", "lake/") as sink:  # doctest: +SKIP
...     sink.run_until_idle()
>>> import pyarrow.dataset as ds                                  # doctest: +SKIP
>>> ds.dataset("lake/", partitioning="hive").to_table().num_rows  # doctest: +SKIP
1

A sink follows its topic as a member of a consumer group (``group="lake"``),
so its lag is in ``bus.catalog()``. Files are written under
``<path>/topic=<name>/date=YYYY-MM-DD/hour=HH/`` and named
``<topic>+<partition>+<first offset>+<last offset>.parquet``; each is written
whole under a hidden temporary name, renamed into place, and only then are its
offsets committed. A sink started again after a crash removes temporary files
and resumes after the last complete file: the lake never holds a record twice or
a torn file. Export a durable topic (``bus.topic(name, durable=True)`` on a bus
with ``data_dir``) to resume across processes.

Columns: ``partition``, ``offset``, ``timestamp`` (UTC), ``key`` (str; bytes
with ``key_as_text=False``), ``headers`` (a list of ``{"name", "value"}``),
and the value: one column per property when the topic's schema says the value
is an object with ``properties``, else ``value`` as JSON text.

Values must be JSON-shaped (dict, list, str, int, float, bool, None); a value
that is not stops the sink with ``ValueError`` naming the record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

from ._ringlet import LakeSink

__all__ = ["LakeSink", "ParquetSink", "JsonLinesSink"]


class ParquetSink(LakeSink):
    """A :class:`LakeSink` writing Apache Parquet files (Snappy-compressed)."""

    def __new__(cls, bus: Any, topic: Any, path: Any, **options: Any) -> Self:
        if "format" in options:
            raise TypeError("ParquetSink writes Parquet: use LakeSink(..., format=...) for another format")
        return super().__new__(cls, bus, topic, path, format="parquet", **options)


class JsonLinesSink(LakeSink):
    """A :class:`LakeSink` writing JSON Lines files (one object per record)."""

    def __new__(cls, bus: Any, topic: Any, path: Any, **options: Any) -> Self:
        if "format" in options:
            raise TypeError("JsonLinesSink writes JSON Lines: use LakeSink(..., format=...) for another format")
        return super().__new__(cls, bus, topic, path, format="jsonl", **options)

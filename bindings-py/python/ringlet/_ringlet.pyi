"""Ringlet's extension module: the Rust core as Python classes.

Times are float seconds or ``datetime.timedelta``; timestamps are int
milliseconds since the epoch or ``datetime``. Values are any objects, held by
reference. Blocking calls release the GIL and Ctrl-C interrupts them.
"""

import asyncio
import os
import pathlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, AsyncIterator, Mapping
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Literal, Optional, Union, final

from typing_extensions import Self, disjoint_base

__version__: str
__all__ = [
    "Aggregates",
    "AlreadySettled",
    "Bridge",
    "HttpServer",
    "serve",
    "LakeSink",
    "Bus",
    "Closed",
    "ConfigError",
    "Corrupt",
    "Delivery",
    "EventStore",
    "Expired",
    "Faults",
    "Full",
    "Group",
    "GroupedStream",
    "InvalidName",
    "Io",
    "KafkaError",
    "Lagged",
    "Locked",
    "ManualClock",
    "Member",
    "NotFound",
    "NotOwner",
    "OutOfRange",
    "PatternSubscription",
    "Pending",
    "Queue",
    "Ready",
    "Receipt",
    "Record",
    "RingletError",
    "SchemaError",
    "ShareGroup",
    "ShareMember",
    "Stream",
    "StreamError",
    "StreamThread",
    "Subscription",
    "Table",
    "Timeout",
    "Topic",
    "Topology",
    "TopologyDescription",
    "TypeMismatch",
    "UnknownTopic",
    "Unreachable",
    "VersionConflict",
    "WindowedGroupedStream",
    "WindowedTable",
    "__version__",
]

_Seconds = Union[float, int, timedelta]
_Timestamp = Union[int, datetime]
_KeyLike = Union[str, bytes, bytearray, memoryview]
_HeaderValue = Union[str, bytes, bytearray, memoryview]
_HeadersLike = Union[Mapping[str, _HeaderValue], Iterable[tuple[str, _HeaderValue]]]
_StartLike = Union[Literal["earliest", "latest"], int, Mapping[int, int], datetime]
_GroupStart = Union[Literal["earliest", "latest"], datetime]
_OnFull = Literal["overwrite", "block", "reject", "keep"]
_Codec = Literal["json", "pickle", "bytes"]
_Durability = Literal["written", "synced", "buffered"]
_OnLag = Literal["earliest", "latest", "error"]

class RingletError(Exception):
    """Base class of every Ringlet error."""

class Full(RingletError):
    """The topic partition or queue is full."""

class Closed(RingletError):
    """The topic, queue, subscription or member is closed."""

class Lagged(RingletError):
    """Records were evicted before this reader got to them."""

    partition: int
    skipped: int

class Expired(RingletError):
    """The delivery's visibility timeout passed before it was settled."""

class AlreadySettled(RingletError):
    """The delivery was settled already."""

class Timeout(RingletError):
    """Nothing happened within the timeout."""

class NotOwner(RingletError):
    """The group member does not own the partition."""

    partition: int

class OutOfRange(RingletError):
    """An offset or partition the topic does not have."""

    partition: int

class VersionConflict(RingletError):
    """An append expected another version."""

    id: str
    expected: int
    actual: int

class StreamError(RingletError):
    """A record failed in a topology; ``__cause__`` is the callback's exception."""

    node: str
    topology: str
    topic: str
    partition: int
    offset: int
    key: Union[str, bytes, None]
    record: Optional[Record]

class TypeMismatch(RingletError, TypeError):
    """A value, or the object a name holds, is of another type than expected (also a TypeError)."""

class ConfigError(RingletError):
    """An invalid or conflicting configuration."""

class NotFound(RingletError):
    """Nothing by that name exists."""

class InvalidName(RingletError):
    """The name breaks the naming rules or is reserved."""

class Corrupt(RingletError):
    """Stored data is damaged before its tail (durable topics)."""

class Locked(RingletError):
    """A store's directory is open elsewhere."""

class Io(RingletError):
    """The operating system refused a read, write or sync of stored data."""

class SchemaError(RingletError):
    """A record does not match its topic's JSON Schema; nothing was published."""

    topic: str
    path: str
    rule: str

@final
class ManualClock:
    """A clock that moves only when advanced: deterministic runs."""

    def __new__(cls, start: Optional[_Timestamp] = None) -> ManualClock: ...
    @property
    def now_ms(self) -> int:
        """The clock's time, ms since the epoch."""
    def advance(self, delta: _Seconds) -> None:
        """Moves forward, firing every transition that falls due, in order."""

@final
class Bus:
    """The event bus: a registry of topics and queues by name."""

    def __new__(
        cls,
        clock: Optional[ManualClock] = None,
        journal: Optional[int] = None,
        *,
        data_dir: Union[str, os.PathLike[str], None] = None,
        repair: bool = False,
        naming_rule: Optional[str] = None,
    ) -> Bus: ...
    def topic(
        self,
        name: str,
        *,
        partitions: Optional[int] = None,
        capacity: Optional[int] = None,
        max_age: Optional[_Seconds] = None,
        on_full: Optional[_OnFull] = None,
        compacted: Optional[bool] = None,
        durable: Optional[bool] = None,
        codec: Optional[_Codec] = None,
        durability: Optional[_Durability] = None,
        owner: Optional[str] = None,
        description: Optional[str] = None,
        tags: Optional[Iterable[str]] = None,
        schema: Union[Mapping[str, Any], bool, None] = None,
    ) -> Topic:
        """The topic of that name, created if missing; options left out accept what exists (or is stored)."""
    def sync(self) -> None:
        """Writes every durable topic's records to disk now."""
    def close(self) -> None:
        """Closes every topic and queue, syncs durable topics and unlocks the data directory."""
    def __enter__(self) -> Bus: ...
    def __exit__(self, *args: object) -> bool: ...
    def queue(
        self,
        name: str,
        *,
        capacity: Optional[int] = None,
        visibility_timeout: Optional[_Seconds] = None,
        max_deliveries: Optional[int] = None,
        dead_letter: Optional[str] = None,
        durable: Optional[bool] = None,
        codec: Optional[_Codec] = None,
        durability: Optional[_Durability] = None,
    ) -> Queue:
        """The queue of that name, created if missing; options left out accept what exists. ``durable=True`` keeps its messages in the data directory."""
    def get_topic(self, name: str) -> Topic:
        """An existing topic (``"__journal"``: the journal)."""
    def get_queue(self, name: str) -> Queue:
        """An existing queue."""
    def delete(self, name: str) -> None:
        """Removes a topic or queue (closing it)."""
    def names(self) -> list[str]:
        """The names of topics and queues, sorted."""
    def faults(self) -> Faults:
        """Fault injection on this bus: crashes, late acks, failed publishes and sends, paused partitions."""
    def snapshot(self) -> dict[str, Any]:
        """Everything, as plain dicts and lists."""
    def catalog(self) -> list[dict[str, Any]]:
        """Every topic as a data product (a list of dicts; a table in Jupyter)."""
    def subscribe_pattern(self, pattern: str, start: Optional[_StartLike] = None) -> PatternSubscription:
        """Reads every topic whose whole name matches ``pattern``, including topics created later."""
    def group_pattern(
        self,
        pattern: str,
        name: str,
        *,
        start: Optional[_GroupStart] = None,
        auto_commit: Optional[bool] = None,
        session_timeout: Optional[_Seconds] = None,
    ) -> PatternSubscription:
        """Joins the group ``name`` on every topic whose whole name matches ``pattern``."""
    @property
    def naming_rule(self) -> Optional[str]:
        """The rule topic names follow, or None."""
    @property
    def journal(self) -> Optional[Topic]:
        """The journal topic, or None."""
    @property
    def clock(self) -> Optional[ManualClock]:
        """The manual clock, or None on the system clock."""
    @property
    def now_ms(self) -> int:
        """The bus clock's time, ms since the epoch."""
    def advance(self, delta: _Seconds) -> None:
        """Advances the manual clock."""
    def __contains__(self, name: str, /) -> bool: ...
    def __len__(self) -> int: ...
    def _repr_html_(self) -> str: ...
    def topology(
        self, name: Optional[str] = None, *, durable: bool = False, codec: Optional[_Codec] = None
    ) -> Topology:
        """The default topology, or the live one named ``name``; ``durable=True`` keeps its tables' changelogs in the data directory."""
    def run_until_idle(self) -> int:
        """Steps every topology until nothing is pending; returns records read."""
    def step(self) -> int:
        """Steps every topology once; returns records read."""
    def event_store(
        self,
        name: str,
        *,
        partitions: Optional[int] = None,
        capacity: Optional[int] = None,
        durable: Optional[bool] = None,
        codec: Optional[_Codec] = None,
        durability: Optional[_Durability] = None,
    ) -> EventStore:
        """The event store ``name`` (a keep topic keyed by aggregate id); ``durable=True`` keeps it in the data directory."""

_InjectedError = Literal["full", "closed", "io"]

@final
class Faults:
    """Fault injection for tests and lessons (``bus.faults()``)."""

    def crash(self, target: Union[Member, ShareMember, Delivery]) -> bool:
        """Crashes a consumer without leaving or settling; whether it was still running."""
    def delay_acks(self, name: str, delay: Optional[_Seconds]) -> None:
        """Delays settles of the queue (or a topic's share groups) by ``delay`` seconds of bus time; 0 or None ends it."""
    def fail_publishes(self, name: str, n: Optional[int] = None, *, error: Optional[_InjectedError] = None) -> None:
        """Fails the next ``n`` (default 1) publishes of the topic with ``error`` (default ``"full"``)."""
    def fail_sends(self, name: str, n: Optional[int] = None, *, error: Optional[_InjectedError] = None) -> None:
        """Fails the next ``n`` (default 1) sends of the queue with ``error`` (default ``"full"``)."""
    def pause_partition(self, name: str, partition: int) -> None:
        """Pauses the delivery of a partition to every reader."""
    def resume_partition(self, name: str, partition: int) -> None:
        """Resumes a paused partition, waking its readers."""
    def clear(self) -> None:
        """Disarms every delay, failure and pause."""
    @property
    def active(self) -> list[dict[str, Any]]:
        """The faults armed now."""
    @property
    def figures(self) -> dict[str, int]:
        """What the faults did: failed, delayed_acks, late_acks, crashed."""

@final
class Receipt:
    """Where a published record went."""

    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Record:
    """A record read from a topic."""

    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int:
        """Milliseconds since the epoch."""
    @property
    def key(self) -> Union[str, bytes, None]: ...
    @property
    def headers(self) -> list[tuple[str, bytes]]: ...
    @property
    def value(self) -> Any:
        """The very object that was published."""
    def header(self, name: str) -> Optional[bytes]:
        """The last header of that name, or None."""
    @property
    def topic(self) -> Optional[str]:
        """The topic it was read from, for records of a pattern subscription."""

@final
class Topic:
    """A named, partitioned, replayable topic."""

    @property
    def recovered(self) -> list[str]:
        """What opening its durable log cut off (torn tails), as sentences."""

    def stream(self) -> Stream:
        """A stream of this topic in the bus's default topology."""

    @property
    def name(self) -> str: ...
    @property
    def partitions(self) -> int: ...
    @property
    def capacity(self) -> int: ...
    @property
    def max_age(self) -> Optional[float]: ...
    @property
    def on_full(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    @property
    def config(self) -> dict[str, Any]: ...
    def end_offsets(self) -> list[int]: ...
    def earliest_offsets(self) -> list[int]: ...
    def to_arrow(self, start: Optional[_StartLike] = None) -> Any:
        """The retained records as a ``pyarrow.Table`` (needs ``ringlet[lake]``)."""
    def to_pandas(self, start: Optional[_StartLike] = None) -> Any:
        """The retained records as a ``pandas.DataFrame`` (needs ``ringlet[lake]``)."""
    def offsets_for_times(self, timestamp: _Timestamp) -> list[Optional[int]]: ...
    def publish(
        self,
        value: Any,
        *,
        key: Optional[_KeyLike] = None,
        headers: Optional[_HeadersLike] = None,
        partition: Optional[int] = None,
        timestamp: Optional[_Timestamp] = None,
        timeout: Optional[_Seconds] = None,
    ) -> Receipt:
        """Publishes a value; waits for room on a ``block`` topic."""
    def publish_many(self, values: Iterable[Any], *, timeout: Optional[_Seconds] = None) -> int:
        """Publishes every value; returns how many. On a block topic it waits for
        room (at most ``timeout`` seconds in all, then ``Full``)."""
    def publish_async(
        self, value: Any, *, key: Optional[_KeyLike] = None, headers: Optional[_HeadersLike] = None
    ) -> Awaitable[Receipt]:
        """Publishes, waiting asynchronously for room."""
    def subscribe(self, start: Optional[_StartLike] = None, *, on_lag: Optional[_OnLag] = None) -> Subscription:
        """A new reader over all partitions (start ``"latest"`` by default)."""
    def group(
        self,
        name: str,
        *,
        start: Optional[_GroupStart] = None,
        auto_commit: Optional[bool] = None,
        session_timeout: Optional[_Seconds] = None,
    ) -> Group:
        """The consumer group of that name."""
    def share_group(
        self,
        name: str,
        *,
        start: Optional[_GroupStart] = None,
        visibility_timeout: Optional[_Seconds] = None,
        max_deliveries: Optional[int] = None,
        max_in_flight: Optional[int] = None,
        dead_letter: Optional[str] = None,
    ) -> ShareGroup:
        """The share group of that name."""
    def close(self) -> None: ...
    @property
    def metadata(self) -> dict[str, Any]:
        """Owner, description, tags and schema."""
    @property
    def schema(self) -> Optional[dict[str, Any]]:
        """The JSON Schema values must match, or None."""
    def set_schema(self, schema: Union[Mapping[str, Any], bool]) -> None:
        """Changes the schema; only optional fields may be added."""
    def snapshot(self) -> dict[str, Any]: ...
    def __len__(self) -> int: ...
    def _repr_html_(self) -> str: ...

@final
class Subscription:
    """An independent reader over all partitions of a topic."""

    def poll(self, timeout: Optional[_Seconds] = None) -> Optional[Record]:
        """The next record, or None on timeout; raises Lagged once per gap."""
    def poll_many(self, max: Optional[int] = None, timeout: Optional[_Seconds] = None) -> list[Record]:
        """Up to ``max`` (default 1024) records; empty on timeout."""
    def next(self) -> Awaitable[Record]:
        """Waits for the next record (asyncio)."""
    def __iter__(self) -> Iterator[Record]: ...
    def __next__(self) -> Record: ...
    def __aiter__(self) -> AsyncIterator[Record]: ...
    def __anext__(self) -> Awaitable[Record]: ...
    @property
    def skipped(self) -> int: ...
    @property
    def positions(self) -> list[int]: ...
    @property
    def lag(self) -> int: ...
    def seek(self, start: _StartLike) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Subscription: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

@final
class PatternSubscription:
    """A reader of every topic whose name matches a pattern (``Bus.subscribe_pattern``,
    or a group member with ``Bus.group_pattern``)."""

    @property
    def pattern(self) -> str: ...
    @property
    def group(self) -> Optional[str]: ...
    def poll(self, timeout: Optional[_Seconds] = None) -> Optional[Record]:
        """The next record of any matching topic (``.topic`` says which), or None on timeout."""
    def poll_many(self, max: Optional[int] = None, timeout: Optional[_Seconds] = None) -> list[Record]:
        """Up to ``max`` (default 1024) records; empty on timeout."""
    def __iter__(self) -> Iterator[Record]: ...
    def __next__(self) -> Record: ...
    def topics(self) -> list[str]:
        """The topics read now, sorted."""
    def not_read(self) -> list[tuple[str, str]]:
        """Matching topics that are not read, with the reason."""
    @property
    def lag(self) -> int: ...
    @property
    def skipped(self) -> int: ...
    def commit(self) -> None:
        """Commits what was returned on every topic (a group member only)."""
    def assignment(self) -> dict[str, list[int]]: ...
    def close(self) -> None: ...
    def __enter__(self) -> PatternSubscription: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None: ...

@final
class Group:
    """A consumer group: each partition is owned by one member at a time."""

    @property
    def name(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def config(self) -> dict[str, Any]: ...
    def join(
        self,
        *,
        on_assign: Optional[Callable[[list[int]], object]] = None,
        on_revoke: Optional[Callable[[list[int]], object]] = None,
    ) -> Member:
        """Joins the group."""
    def committed(self) -> list[Optional[int]]: ...
    def lag(self) -> list[int]: ...
    def members(self) -> list[tuple[int, list[int]]]: ...
    def snapshot(self) -> dict[str, Any]: ...
    def __len__(self) -> int: ...
    def _repr_html_(self) -> str: ...

@final
class Member:
    """A member of a consumer group."""

    @property
    def id(self) -> int: ...
    def poll(self, timeout: Optional[_Seconds] = None) -> Optional[Record]: ...
    def poll_many(self, max: Optional[int] = None, timeout: Optional[_Seconds] = None) -> list[Record]: ...
    def next(self) -> Awaitable[Record]: ...
    def __iter__(self) -> Iterator[Record]: ...
    def __next__(self) -> Record: ...
    def __aiter__(self) -> AsyncIterator[Record]: ...
    def __anext__(self) -> Awaitable[Record]: ...
    def commit(self, offsets: Optional[dict[int, int]] = None) -> None: ...
    def seek(self, partition: int, offset: int) -> None: ...
    def assignment(self) -> list[int]: ...
    def positions(self) -> list[tuple[int, int]]: ...
    def assign(self, partitions: Iterable[int]) -> None: ...
    def pause(self, partitions: Iterable[int]) -> None: ...
    def resume(self, partitions: Iterable[int]) -> None: ...
    def paused(self) -> list[int]: ...
    def end_offsets(self) -> list[int]: ...
    def offsets_for_times(self, timestamp: _Timestamp) -> list[Optional[int]]: ...
    @property
    def skipped(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def leave(self) -> None: ...
    def __enter__(self) -> Member: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

@final
class ShareGroup:
    """A share group: each record goes to one member at a time."""

    @property
    def name(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def config(self) -> dict[str, Any]: ...
    def join(self) -> ShareMember: ...
    def snapshot(self) -> dict[str, Any]: ...
    def _repr_html_(self) -> str: ...

@final
class ShareMember:
    """A member of a share group."""

    @property
    def id(self) -> int: ...
    def receive(self, timeout: Optional[_Seconds] = None) -> Optional[Delivery]: ...
    def receive_many(self, max: Optional[int] = None, timeout: Optional[_Seconds] = None) -> list[Delivery]: ...
    def receive_async(self) -> Awaitable[Delivery]: ...
    def __iter__(self) -> Iterator[Delivery]: ...
    def __next__(self) -> Delivery: ...
    def __aiter__(self) -> AsyncIterator[Delivery]: ...
    def __anext__(self) -> Awaitable[Delivery]: ...
    @property
    def closed(self) -> bool: ...
    def leave(self) -> None: ...
    def __enter__(self) -> ShareMember: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

@final
class Queue:
    """A bounded queue for competing consumers."""

    @property
    def recovered(self) -> list[str]:
        """What opening its durable log cut off (torn tails), as sentences."""

    @property
    def name(self) -> str: ...
    @property
    def capacity(self) -> int: ...
    @property
    def visibility_timeout(self) -> float: ...
    @property
    def max_deliveries(self) -> Optional[int]: ...
    @property
    def dead_letter(self) -> Optional[str]: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @property
    def closed(self) -> bool: ...
    @property
    def figures(self) -> dict[str, int]: ...
    def send(
        self,
        value: Any,
        *,
        key: Optional[_KeyLike] = None,
        headers: Optional[_HeadersLike] = None,
        delay: Optional[_Seconds] = None,
        timeout: Optional[_Seconds] = None,
    ) -> None:
        """Sends a value, waiting while full (``timeout``: then Full)."""
    def send_many(self, values: Iterable[Any], *, timeout: Optional[_Seconds] = None) -> int: ...
    def send_async(
        self, value: Any, *, key: Optional[_KeyLike] = None, headers: Optional[_HeadersLike] = None
    ) -> Awaitable[None]: ...
    def receive(self, timeout: Optional[_Seconds] = None) -> Optional[Delivery]:
        """The next delivery, or None on timeout."""
    def receive_many(self, max: Optional[int] = None, timeout: Optional[_Seconds] = None) -> list[Delivery]: ...
    def receive_async(self) -> Awaitable[Delivery]: ...
    def __iter__(self) -> Iterator[Delivery]: ...
    def __next__(self) -> Delivery: ...
    def __aiter__(self) -> AsyncIterator[Delivery]: ...
    def __anext__(self) -> Awaitable[Delivery]: ...
    def close(self) -> None: ...
    def snapshot(self) -> dict[str, Any]: ...
    def __len__(self) -> int: ...
    def _repr_html_(self) -> str: ...

@final
class Delivery:
    """A message delivered to one consumer until settled."""

    @property
    def value(self) -> Any: ...
    @property
    def key(self) -> Union[str, bytes, None]: ...
    @property
    def headers(self) -> list[tuple[str, bytes]]: ...
    def header(self, name: str) -> Optional[bytes]: ...
    @property
    def attempt(self) -> int: ...
    @property
    def partition(self) -> Optional[int]: ...
    @property
    def offset(self) -> Optional[int]: ...
    @property
    def enqueued_at(self) -> int: ...
    @property
    def settled(self) -> bool: ...
    def ack(self) -> None: ...
    def nack(self, delay: Optional[_Seconds] = None) -> None: ...
    def reject(self) -> None: ...
    def __enter__(self) -> Delivery: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

@final
class Pending:
    """An operation an ``await`` is waiting for (internal)."""

    def poll(self, event_loop: asyncio.AbstractEventLoop, fut: asyncio.Future[None]) -> tuple[bool, Any]: ...
    def cancel(self) -> None: ...

@final
class Ready:
    """An awaitable that is ready at once (internal)."""

    def __await__(self) -> Ready: ...
    def __iter__(self) -> Ready: ...
    def __next__(self) -> Any: ...


_Callback = Callable[[Record], Any]

@final
class Stream:
    """A stream of records in a topology."""

    def filter(self, pred: Callable[[Record], object]) -> Stream: ...
    def map(self, f: _Callback) -> Stream: ...
    def flat_map(self, f: Callable[[Record], Iterable[Any]]) -> Stream: ...
    def key_by(self, f: Callable[[Record], Union[str, bytes, None]]) -> Stream: ...
    def branch(self, *preds: Callable[[Record], object]) -> list[Stream]: ...
    def merge(self, other: Stream) -> Stream: ...
    def peek(self, f: _Callback) -> Stream: ...
    def for_each(self, f: _Callback) -> None: ...
    def to(self, topic: Union[Topic, str]) -> None: ...
    def route(
        self,
        f: Callable[[Record], str],
        *,
        create: bool = True,
        partitions: Optional[int] = None,
        capacity: Optional[int] = None,
        max_age: Optional[_Seconds] = None,
        on_full: Optional[_OnFull] = None,
    ) -> None:
        """Publishes each record to the topic ``f(record)`` names."""
    def group_by_key(self, *, store: Optional[str] = None, capacity: Optional[int] = None) -> GroupedStream: ...
    def join(self, table: Table, f: Callable[[Record, Any], Any]) -> Stream: ...
    def left_join(self, table: Table, f: Callable[[Record, Any], Any]) -> Stream: ...
    def named(self, name: str) -> Stream: ...
    @property
    def topology(self) -> Topology: ...

@final
class GroupedStream:
    """A stream grouped by key."""

    def count(self) -> Table: ...
    def reduce(self, f: Callable[[Any, Any], Any]) -> Table: ...
    def aggregate(self, initializer: Any, aggregator: Callable[[Any, Record], Any]) -> Table: ...
    def window(
        self,
        *,
        tumbling: Optional[_Seconds] = None,
        hopping: Optional[tuple[_Seconds, _Seconds]] = None,
        session: Optional[_Seconds] = None,
        grace: Optional[_Seconds] = None,
        retention: Optional[_Seconds] = None,
    ) -> WindowedGroupedStream: ...

@final
class WindowedGroupedStream:
    """A grouped stream with windows."""

    def count(self) -> WindowedTable: ...
    def reduce(self, f: Callable[[Any, Any], Any]) -> WindowedTable: ...
    def aggregate(
        self,
        initializer: Any,
        aggregator: Callable[[Any, Record], Any],
        merge: Optional[Callable[[Any, Any], Any]] = None,
    ) -> WindowedTable: ...

@final
class Table:
    """A table kept by an aggregation."""

    @property
    def name(self) -> str: ...
    @property
    def changelog(self) -> str: ...
    def get(self, key: _KeyLike, default: Any = None) -> Any: ...
    def __getitem__(self, key: _KeyLike, /) -> Any: ...
    def __contains__(self, key: _KeyLike, /) -> bool: ...
    def __len__(self) -> int: ...
    def items(self) -> list[tuple[Union[str, bytes], Any]]: ...
    def to_dict(self) -> dict[Union[str, bytes], Any]: ...
    def to_stream(self) -> Stream: ...
    def _repr_html_(self) -> str: ...

@final
class WindowedTable:
    """A table of windowed aggregates."""

    def get(self, key: _KeyLike, start: int) -> Any: ...
    def fetch(self, key: _KeyLike) -> list[tuple[int, int, Any]]: ...
    def items(self) -> list[tuple[Union[str, bytes], int, int, Any]]: ...
    @property
    def dropped_late(self) -> int: ...
    @property
    def stream_time(self) -> Optional[int]: ...
    def __len__(self) -> int: ...
    def to_stream(self) -> Stream: ...

@final
class TopologyDescription:
    """A topology's graph: ``str()`` is Kafka's text."""

    @property
    def mermaid(self) -> str: ...
    @property
    def svg(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def _repr_svg_(self) -> str: ...

@final
class Topology:
    """A graph of stream processors and tables."""

    @property
    def name(self) -> str: ...
    def stream(self, topic: Topic) -> Stream: ...
    def step(self) -> int: ...
    def run_until_idle(self) -> int: ...
    def spawn(self) -> StreamThread: ...
    def on_error(self, policy: Literal["stop", "skip"]) -> None: ...
    @property
    def errors(self) -> list[StreamError]: ...
    def describe(self) -> TopologyDescription: ...
    def close(self) -> None: ...
    def _repr_svg_(self) -> str: ...

@final
class StreamThread:
    """A topology running on its own thread."""

    def stop(self) -> None: ...
    @property
    def finished(self) -> bool: ...

@final
class EventStore:
    """Events per aggregate id, with optimistic concurrency."""

    def append(self, id: str, events: Iterable[Any], expected_version: Optional[int] = None) -> int: ...
    def load(self, id: str) -> list[Any]: ...
    def version(self, id: str) -> int: ...
    def ids(self) -> list[str]: ...
    @property
    def topic(self) -> Topic: ...
    def aggregates(self, factory: Callable[[], Any]) -> Aggregates: ...

@final
class Aggregates:
    """Aggregates of one kind over an event store."""

    def load(self, id: str) -> tuple[Any, int]: ...
    def execute(self, id: str, command: Any) -> tuple[list[Any], int]: ...

# --- ringlet.kafka ------------------------------------------------------------

class KafkaError(RingletError):
    """The Kafka bridge failed (the base of `Unreachable` and `UnknownTopic`)."""

class Unreachable(KafkaError):
    """No Kafka broker answered at the bootstrap address within the timeout."""

class UnknownTopic(KafkaError):
    """The Kafka topic does not exist and the link may not create it."""

@final
class Bridge:
    """Links between a bus and an Apache Kafka cluster."""

    def __new__(
        cls,
        bus: Bus,
        bootstrap: str,
        *,
        client_id: str | None = None,
        timeout: float | timedelta | None = None,
        close_timeout: float | timedelta | None = None,
        properties: dict[str, str] | None = None,
    ) -> Bridge: ...
    def to_kafka(
        self,
        name: str,
        *,
        kafka_topic: str | None = None,
        group: str | None = None,
        start: Optional[Literal["earliest", "latest"]] = None,
        partitions: int | None = None,
        create_topic: bool | None = None,
        dead_letter: str | None = None,
        codec: Literal["json", "pickle", "bytes"] | None = None,
    ) -> None: ...
    def from_kafka(
        self,
        name: str,
        *,
        group: str | None = None,
        kafka_topic: str | None = None,
        start: Optional[Literal["earliest", "latest"]] = None,
        create_topic: int | None = None,
        dead_letter: str | None = None,
        codec: Literal["json", "pickle", "bytes"] | None = None,
    ) -> None: ...
    def queue_to_kafka(
        self,
        name: str,
        *,
        kafka_topic: str | None = None,
        partitions: int | None = None,
        create_topic: bool | None = None,
        dead_letter: str | None = None,
        codec: Literal["json", "pickle", "bytes"] | None = None,
    ) -> None: ...
    def queue_from_kafka(
        self,
        name: str,
        *,
        group: str | None = None,
        kafka_topic: str | None = None,
        start: Optional[Literal["earliest", "latest"]] = None,
        create_topic: int | None = None,
        dead_letter: str | None = None,
        codec: Literal["json", "pickle", "bytes"] | None = None,
    ) -> None: ...
    def figures(self) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...
    def __enter__(self) -> Bridge: ...
    def __exit__(self, *_args: object) -> bool: ...

@final
class HttpServer:
    """A bus served over HTTP (`ringlet.http.serve`)."""

    @property
    def url(self) -> str: ...
    @property
    def running(self) -> bool: ...
    def stop(self) -> None: ...
    def __enter__(self) -> HttpServer: ...
    def __exit__(self, *_args: object) -> bool: ...

def serve(
    bus: Bus,
    *,
    host: str = "127.0.0.1",
    port: int = 8082,
    token: str | None = None,
    cors_origins: list[str] | None = None,
    cluster_id: str | None = None,
) -> HttpServer: ...

@disjoint_base
class LakeSink:
    """Writes a topic to a data lake folder as Parquet or JSON Lines files (`ringlet.lake`)."""

    def __new__(
        cls,
        bus: Bus,
        topic: Union[str, Topic],
        path: Union[str, os.PathLike[str]],
        *,
        format: Literal["parquet", "jsonl", "jsonlines", "json"] = "parquet",
        group: str = "lake",
        start: Optional[_StartLike] = None,
        max_records: int = 100000,
        max_bytes: int = 67108864,
        max_age: Optional[_Seconds] = None,
        key_as_text: bool = True,
    ) -> Self: ...
    def step(self, timeout: Optional[_Seconds] = None) -> int: ...
    def run_until_idle(self) -> int: ...
    def flush(self) -> int: ...
    def close(self) -> Optional[dict[str, int]]: ...
    @property
    def stats(self) -> dict[str, int]: ...
    @property
    def folder(self) -> pathlib.Path: ...
    @property
    def topic(self) -> str: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc: object) -> bool: ...

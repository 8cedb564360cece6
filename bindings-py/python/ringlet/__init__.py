"""Ringlet: an in-process event bus with Kafka's ideas.

Replayable, retained **topics** (partitions, offsets, subscriptions, consumer
groups, share groups) and competing-consumer **queues** (acks, redelivery, dead
letters), in memory, on Ringlet's lock-free Rust core.

Values are any Python objects, held by reference and never copied or pickled:
what you publish is what readers get back (``is``). So they are shared — mutating
an object after publishing it changes what consumers see.

>>> import ringlet
>>> bus = ringlet.Bus()
>>> orders = bus.topic("orders", partitions=3)
>>> sub = orders.subscribe(start="earliest")
>>> order = {"id": 1}
>>> receipt = orders.publish(order, key="customer-42")
>>> sub.poll(timeout=1.0).value is order
True
"""

from ._ringlet import (
    Aggregates,
    AlreadySettled,
    Bus,
    Closed,
    ConfigError,
    Corrupt,
    Delivery,
    EventStore,
    Expired,
    Faults,
    Full,
    Group,
    GroupedStream,
    InvalidName,
    Io,
    Lagged,
    Locked,
    ManualClock,
    Member,
    NotFound,
    NotOwner,
    OutOfRange,
    PatternSubscription,
    Queue,
    Receipt,
    Record,
    RingletError,
    SchemaError,
    ShareGroup,
    ShareMember,
    Stream,
    StreamError,
    StreamThread,
    Subscription,
    Table,
    Timeout,
    Topic,
    Topology,
    TopologyDescription,
    TypeMismatch,
    VersionConflict,
    WindowedGroupedStream,
    WindowedTable,
    __version__,
)

__all__ = [
    "Aggregates",
    "AlreadySettled",
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
    "Lagged",
    "Locked",
    "ManualClock",
    "Member",
    "NotFound",
    "NotOwner",
    "OutOfRange",
    "PatternSubscription",
    "Queue",
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
    "VersionConflict",
    "WindowedGroupedStream",
    "WindowedTable",
    "__version__",
]

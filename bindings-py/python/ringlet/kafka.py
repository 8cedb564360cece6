"""From one process to Apache Kafka: a bridge between a bus and a Kafka cluster.

Services that talk through one bus keep their code when some of them move to
other processes: add bridge lines on each side.

>>> import ringlet, ringlet.kafka                                # doctest: +SKIP
>>> bus = ringlet.Bus()                                          # doctest: +SKIP
>>> orders = bus.topic("orders", partitions=3)                   # doctest: +SKIP
>>> bridge = ringlet.kafka.Bridge(bus, "127.0.0.1:19092", client_id="shop")  # doctest: +SKIP
>>> bridge.to_kafka("orders")                                    # doctest: +SKIP
>>> bridge.from_kafka("shipments", group="shop", create_topic=3)  # doctest: +SKIP

Both directions are at least once: a link commits on one side only after the
other side confirmed (Kafka acknowledged with ``acks=all``; the Ringlet publish
or send returned). Values cross as the codec encodes them (``"json"`` by
default, readable by any Kafka client; ``"pickle"`` or ``"bytes"``); keys,
headers, timestamps and partition numbers are kept. ``figures()`` (and
``bus.snapshot()["links"]``) count what moved, lag, retries, errors and dead
letters. ``make kafka-up`` runs a single-node broker on 127.0.0.1:19092.
"""

from ._ringlet import Bridge
from ._ringlet import KafkaError, UnknownTopic, Unreachable

__all__ = ["Bridge", "KafkaError", "UnknownTopic", "Unreachable"]

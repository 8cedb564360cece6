"""The shipping service in a process of its own: the same `ship` function, on
its own bus, with two bridge lines. Usage: shipping_worker.py BOOTSTRAP PREFIX
(PREFIX names this run's Kafka topics)."""

import sys
import time

import ringlet
import ringlet.kafka
from shop_services import ORDERS, ship

bootstrap, prefix = sys.argv[1], sys.argv[2]
bus = ringlet.Bus()
with ringlet.kafka.Bridge(bus, bootstrap, client_id="shipping") as bridge:
    bus.topic("invoices", partitions=3)
    bus.topic("shipments", partitions=3)
    bridge.from_kafka("invoices", kafka_topic=prefix + "invoices", group=prefix + "shipping")
    bridge.to_kafka("shipments", kafka_topic=prefix + "shipments")
    print("ready", flush=True)
    ship(bus)
    out = next(link for link in bridge.figures() if link["kind"] == "to_kafka")
    while out["figures"]["records"] < ORDERS:  # shipments confirmed by Kafka
        time.sleep(0.01)
        out = next(link for link in bridge.figures() if link["kind"] == "to_kafka")
print("shipped", ORDERS, flush=True)

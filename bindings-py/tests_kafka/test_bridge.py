"""ringlet.kafka against the real broker (``make kafka-up``; ``make test`` runs
these with the broker up): one bus exports, another imports."""

import os
import time
import uuid

import pytest

import ringlet
import ringlet.kafka

BOOTSTRAP = f"127.0.0.1:{os.environ.get('KAFKA_PORT', '19092')}"


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:12]}"


def wait_until(what, done, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def test_a_topic_crosses_to_another_bus_through_kafka():
    name = unique("orders")
    a, b = ringlet.Bus(), ringlet.Bus()
    orders = a.topic(name, partitions=3)
    sent = [{"id": i, "items": ["tea"] * (i % 3), "total": i * 1.5} for i in range(100)]
    for order in sent:
        orders.publish(order, key=f"customer-{order['id'] % 7}", headers={"source": "web"}, timestamp=1_700_000_000_000 + order["id"])
    with ringlet.kafka.Bridge(a, BOOTSTRAP, client_id="py-out") as out, ringlet.kafka.Bridge(b, BOOTSTRAP, client_id="py-in") as inbound:
        out.to_kafka(name)
        inbound.from_kafka(name, group=unique("shop"))
        copy = b.topic(name, partitions=3)  # the topic the link made
        wait_until("every record", lambda: sum(copy.end_offsets()) == 100)
        got = copy.subscribe(start="earliest").poll_many(1000)
        theirs = sorted(((r.partition, r.offset), r.key, r.headers, r.timestamp, r.value) for r in got)
        ours = sorted(((r.partition, r.offset), r.key, r.headers, r.timestamp, r.value) for r in orders.subscribe(start="earliest").poll_many(1000))
        assert theirs == ours
        links = {link["kind"]: link for link in a.snapshot()["links"] + b.snapshot()["links"]}
        assert links["to_kafka"]["figures"]["records"] == 100
        assert links["from_kafka"]["figures"]["records"] == 100
        assert out.figures()[0]["name"] == f"{name}->kafka:{name}"


def test_queues_cross_and_are_acked():
    name = unique("jobs")
    a, b = ringlet.Bus(), ringlet.Bus()
    jobs = a.queue(name)
    for i in range(50):
        jobs.send({"job": i})
    with ringlet.kafka.Bridge(a, BOOTSTRAP) as out, ringlet.kafka.Bridge(b, BOOTSTRAP) as inbound:
        out.queue_to_kafka(name)
        wait_until("every job acked", lambda: jobs.figures["acked"] == 50)
        inbound.queue_from_kafka(name, group=unique("workers"))
        work = b.queue(name)
        got = []
        while len(got) < 50:
            d = work.receive(timeout=30)
            assert d is not None
            got.append(d.value["job"])
            d.ack()
        assert got == list(range(50))


def test_errors_are_typed():
    bus = ringlet.Bus()
    with pytest.raises(ringlet.kafka.Unreachable, match="make kafka-up"):
        ringlet.kafka.Bridge(bus, "127.0.0.1:9", timeout=2)
    bridge = ringlet.kafka.Bridge(bus, BOOTSTRAP)
    with pytest.raises(ringlet.NotFound):
        bridge.to_kafka("nowhere")
    bus.topic("here")
    with pytest.raises(ringlet.kafka.UnknownTopic):
        bridge.to_kafka("here", kafka_topic=unique("absent"), create_topic=False)
    with pytest.raises(ringlet.kafka.UnknownTopic):
        bridge.from_kafka("there", kafka_topic=unique("absent"))
    with pytest.raises(ringlet.ConfigError, match="the bridge's own"):
        ringlet.kafka.Bridge(bus, BOOTSTRAP, properties={"enable.idempotence": "false"})
    with pytest.raises(ValueError, match="codec"):
        bridge.to_kafka("here", codec="xml")
    assert issubclass(ringlet.kafka.KafkaError, ringlet.RingletError)
    bridge.close()
    with pytest.raises(ringlet.Closed):
        bridge.to_kafka("here")


def test_from_kafka_creates_a_missing_topic_only_when_asked():
    bus = ringlet.Bus()
    name = unique("shipments")
    with ringlet.kafka.Bridge(bus, BOOTSTRAP) as bridge:
        with pytest.raises(ringlet.kafka.UnknownTopic, match=name):
            bridge.from_kafka(name)
        bridge.from_kafka(name, create_topic=4)
        assert bus.topic(name).partitions == 4
        with pytest.raises(ringlet.kafka.KafkaError):
            bridge.queue_from_kafka(unique("jobs"), create_topic=0)


def test_notebook_from_prototype_to_services():
    from pathlib import Path

    import nbformat
    from nbclient import NotebookClient

    here = Path(__file__).resolve().parent.parent / "notebooks"
    nb = nbformat.read(here / "from_prototype_to_services.ipynb", as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(here)}}).execute()
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stdout")
    for c in nb.cells:
        for o in c.get("outputs", []):
            assert o.get("output_type") != "error", o
    assert "one bus: shipped 12 orders: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]" in text
    assert "worker says: shipped 12" in text
    assert "two processes: shipped 12 orders" in text
    assert "same shipments as on one bus: True" in text
    assert "to_kafka" in text and "from_kafka" in text and "12 records" in text


def test_a_bridge_dropped_without_close_does_not_hang():
    import subprocess
    import sys

    script = f"""
import ringlet, ringlet.kafka
bus = ringlet.Bus()
t = bus.topic({unique('dropped')!r}, partitions=2)
for i in range(2000):
    t.publish({{"i": i}})
bridge = ringlet.kafka.Bridge(bus, {BOOTSTRAP!r})
bridge.to_kafka(t.name)
del bridge   # the links are busy encoding (they need the GIL) when it goes
print("dropped")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "dropped"

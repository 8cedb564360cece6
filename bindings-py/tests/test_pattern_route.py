"""Pattern subscriptions (Kafka's regex subscription) and ``Stream.route``."""

import threading
import time

import pytest

import ringlet


def drain(sub):
    return [(r.topic, r.value) for r in sub.poll_many(timeout=0)]


def test_pattern_reads_matching_topics_including_later_ones():
    bus = ringlet.Bus()
    eu = bus.topic("orders.eu")
    bus.topic("old.orders.eu").publish("not matched: the whole name must match")
    bus.queue("orders.jobs")
    eu.publish({"id": 1})
    sub = bus.subscribe_pattern(r"orders\..*", start="earliest")
    assert sub.pattern == r"orders\..*"
    assert sub.group is None
    assert sub.topics() == ["orders.eu"]
    us = bus.topic("orders.us", partitions=2)
    us.publish({"id": 2})
    got = sorted(drain(sub), key=lambda t: t[0])
    assert got == [("orders.eu", {"id": 1}), ("orders.us", {"id": 2})]
    assert sub.topics() == ["orders.eu", "orders.us"]
    assert sub.poll(timeout=0) is None
    assert sub.lag == 0 and sub.skipped == 0
    assert "orders.us" in repr(sub)
    # A plain subscription's records do not carry a topic.
    plain = eu.subscribe("earliest")
    assert plain.poll(timeout=0).topic is None
    rec = bus.subscribe_pattern("orders.eu", "earliest").poll(timeout=0)
    assert rec.topic == "orders.eu"
    assert repr(rec).startswith('Record(topic="orders.eu"')


def test_a_blocked_poll_wakes_for_a_topic_created_later():
    bus = ringlet.Bus()
    sub = bus.subscribe_pattern(r"late\..*")

    def later():
        time.sleep(0.05)
        bus.topic("late.one").publish("hello")

    t = threading.Thread(target=later)
    t.start()
    r = sub.poll(timeout=30)
    t.join()
    assert (r.topic, r.value) == ("late.one", "hello")


def test_deleted_topics_are_drained_and_iteration_ends_when_closed():
    bus = ringlet.Bus()
    t = bus.topic("d.1")
    t.publish(1)
    with bus.subscribe_pattern(r"d\..*", "earliest") as sub:
        bus.delete("d.1")
        assert drain(sub) == [("d.1", 1)]
        assert sub.topics() == []
        bus.topic("d.1").publish(2)
        assert drain(sub) == [("d.1", 2)]
        sub.close()
        assert list(sub) == []
        with pytest.raises(ringlet.Closed):
            sub.poll(timeout=0)
        with pytest.raises(TypeError, match="group_pattern"):
            sub.commit()


def test_bad_patterns_and_arguments_are_clear_errors():
    bus = ringlet.Bus()
    with pytest.raises(ringlet.ConfigError, match="not a regular expression"):
        bus.subscribe_pattern("orders.(")
    with pytest.raises(TypeError):
        bus.subscribe_pattern(42)
    with pytest.raises((ValueError, TypeError)):
        bus.subscribe_pattern(".*", start="yesterday")
    with pytest.raises((ValueError, TypeError)):
        bus.group_pattern(".*", "g", session_timeout=-1)


def test_pattern_group_members_share_partitions_and_commit():
    bus = ringlet.Bus()
    a = bus.topic("g.a", partitions=4)
    b = bus.topic("g.b", partitions=2)
    m1 = bus.group_pattern(r"g\..*", "billing", start="earliest")
    m2 = bus.group_pattern(r"g\..*", "billing", start="earliest")
    assert m1.group == "billing"
    for i in range(50):
        a.publish(i, key=f"k{i}")
        b.publish(100 + i, key=f"k{i}")
    seen = []
    for m in (m1, m2):
        seen += [(r.topic, r.value) for r in m.poll_many(timeout=0)]
    assert sorted(seen) == sorted([("g.a", i) for i in range(50)] + [("g.b", 100 + i) for i in range(50)])
    owned = {}
    for m in (m1, m2):
        for topic, parts in m.assignment().items():
            owned.setdefault(topic, []).extend(parts)
    assert sorted(owned["g.a"]) == [0, 1, 2, 3] and sorted(owned["g.b"]) == [0, 1]
    m1.commit()
    m2.commit()
    committed = a.group("billing").committed() + b.group("billing").committed()
    assert sum(c or 0 for c in committed) == 100


def test_route_sends_records_to_the_topic_their_function_names():
    bus = ringlet.Bus()
    orders = bus.topic("orders")
    orders.stream().route(lambda r: f"orders.{r.value['country']}", partitions=2)
    for i, c in enumerate(["eu", "us", "eu"]):
        orders.publish({"country": c, "n": i}, key=f"c{i}", headers={"source": "web"})
    bus.run_until_idle()
    eu = [r for r in bus.topic("orders.eu").subscribe("earliest").poll_many(timeout=0)]
    assert [r.value["n"] for r in eu] == [0, 2]
    assert eu[0].key == "c0" and eu[0].header("source") == b"web"
    assert bus.topic("orders.us").config["partitions"] == 2
    route = [n for n in bus.topology().describe().to_dict()["nodes"] if n["op"] == "route"][0]
    assert route["topics"] == ["orders.eu", "orders.us"]


def test_a_route_that_raises_or_returns_no_name_fails_its_record():
    bus = ringlet.Bus()
    orders = bus.topic("orders")
    bus.topology().on_error("skip")

    def where(r):
        if r.value == "boom":
            raise ValueError("no route for boom")
        if r.value == "number":
            return 7
        return "routed"

    orders.stream().route(where)
    for v in ["a", "boom", "number", "b"]:
        orders.publish(v)
    bus.run_until_idle()
    assert [r.value for r in bus.topic("routed").subscribe("earliest").poll_many(timeout=0)] == ["a", "b"]
    errors = bus.topology().errors
    assert len(errors) == 2
    assert isinstance(errors[0].__cause__, ValueError)
    assert "must return a topic name (str), not int" in str(errors[1].__cause__)


def test_route_without_create_only_writes_existing_topics():
    bus = ringlet.Bus(naming_rule="<domain>.<product>")
    orders = bus.topic("shop.orders")
    bus.topic("shop.eu")
    orders.stream().route(lambda r: r.value, create=False)
    orders.publish("shop.eu")
    orders.publish("shop.mars")
    with pytest.raises(ringlet.StreamError, match="shop.mars") as e:
        bus.run_until_idle()
    assert "Routes::create" in str(e.value) or "create" in str(e.value)
    with pytest.raises(ValueError, match="create=True"):
        orders.stream().route(lambda r: "x.y", create=False, partitions=3)

    other = ringlet.Bus(naming_rule="<domain>.<product>")
    src = other.topic("shop.orders")
    other.topology().on_error("skip")
    src.stream().route(lambda r: r.value)
    src.publish("nodots")
    src.publish("shop.orders")
    src.publish("shop.fine")
    other.run_until_idle()
    reasons = [str(e) for e in other.topology().errors]
    assert len(reasons) == 2
    assert "<domain>.<product>" in reasons[0]
    assert "loop" in reasons[1]
    assert [r.value for r in other.topic("shop.fine").subscribe("earliest").poll_many(timeout=0)] == ["shop.fine"]

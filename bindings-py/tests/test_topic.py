import datetime as dt

import pytest

import ringlet


def test_publish_and_poll_hand_back_the_same_object(bus):
    t = bus.topic("orders", partitions=3, capacity=8)
    sub = t.subscribe(start="earliest")
    order = {"id": 1}
    r = t.publish(order, key="customer-42", headers={"source": "web"})
    assert isinstance(r, ringlet.Receipt) and r.offset == 0
    rec = sub.poll(timeout=1.0)
    assert rec.value is order
    assert (rec.partition, rec.offset, rec.key) == (r.partition, 0, "customer-42")
    assert rec.headers == [("source", b"web")] and rec.header("source") == b"web"
    assert rec.header("missing") is None
    assert rec.timestamp == bus.now_ms == 0
    assert sub.poll(timeout=0.01) is None
    assert "customer-42" in repr(rec)


def test_keys_are_text_or_bytes_and_land_like_kafka(bus):
    t = bus.topic("k", partitions=6)
    sub = t.subscribe(start="earliest")
    a = t.publish(1, key="user-7")
    b = t.publish(2, key=b"user-7")
    c = t.publish(3, key=bytearray(b"user-7"))
    assert a.partition == b.partition == c.partition
    keys = [r.key for r in sub.poll_many(10)]
    assert keys == ["user-7", b"user-7", b"user-7"]


def test_unkeyed_round_robin_and_named_partition(bus):
    t = bus.topic("rr", partitions=3)
    assert [t.publish(i).partition for i in range(6)] == [0, 1, 2, 0, 1, 2]
    assert t.publish("x", partition=2).partition == 2
    with pytest.raises(ringlet.OutOfRange) as e:
        t.publish("x", partition=3)
    assert e.value.partition == 3
    assert "the topic has 3 partitions" in str(e.value)
    assert t.end_offsets() == [2, 2, 3]
    assert len(t) == 7


def test_timestamps_from_producer_or_clock(bus, clock):
    t = bus.topic("ts")
    sub = t.subscribe(start="earliest")
    clock.advance(1.5)
    t.publish("a")
    when = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    t.publish("b", timestamp=when)
    t.publish("c", timestamp=42)
    assert [r.timestamp for r in sub.poll_many()] == [1500, int(when.timestamp() * 1000), 42]
    assert t.offsets_for_times(when) == [1]
    assert t.offsets_for_times(10**13) == [None]


def test_lagged_once_then_continues_and_iteration_counts_gaps(bus):
    t = bus.topic("lag", capacity=4)
    sub = t.subscribe(start="earliest")
    it = t.subscribe(start="earliest")
    for i in range(10):
        t.publish(i)
    with pytest.raises(ringlet.Lagged) as e:
        sub.poll()
    assert (e.value.partition, e.value.skipped) == (0, 6)
    assert isinstance(e.value, ringlet.RingletError)
    assert [r.value for r in sub.poll_many()] == [6, 7, 8, 9]
    t.close()
    assert [r.value for r in it] == [6, 7, 8, 9]
    assert it.skipped == 6
    with pytest.raises(ringlet.Closed):
        sub.poll()


def test_on_lag_latest_and_error(bus):
    t = bus.topic("lag2", capacity=2)
    latest = t.subscribe(start="earliest", on_lag="latest")
    err = t.subscribe(start="earliest", on_lag="error")
    for i in range(5):
        t.publish(i)
    with pytest.raises(ringlet.Lagged):
        latest.poll()
    assert latest.poll(timeout=0) is None
    with pytest.raises(ringlet.Lagged):
        err.poll()
    with pytest.raises(ringlet.Lagged):
        err.poll()  # stays failed until seek
    err.seek("earliest")
    assert err.poll().value == 3
    t.close()
    assert [r.value for r in err] == [4]


def test_iteration_with_on_lag_error_raises_at_a_gap(bus):
    t = bus.topic("lag3", capacity=2)
    sub = t.subscribe(start="earliest", on_lag="error")
    for i in range(5):
        t.publish(i)
    t.close()
    with pytest.raises(ringlet.Lagged) as e:
        list(sub)
    assert e.value.skipped == 3
    sub.seek("earliest")
    assert [r.value for r in sub] == [3, 4]


def test_start_positions(bus, clock):
    t = bus.topic("starts", partitions=2)
    for i in range(4):
        t.publish(i, partition=i % 2)
    assert [r.value for r in t.subscribe(start=1).poll_many()] == [2, 3]
    assert sorted(r.value for r in t.subscribe(start={0: 1, 1: 0}).poll_many()) == [1, 2, 3]
    assert t.subscribe().poll(timeout=0) is None
    with pytest.raises(ringlet.OutOfRange):
        t.subscribe(start=99)
    sub = t.subscribe(start=dt.datetime.fromtimestamp(0, dt.timezone.utc))
    assert len(sub.poll_many()) == 4
    sub.seek(0)
    assert sub.positions == [0, 0] and sub.lag == 4


def test_block_keep_reject_and_closed(bus):
    block = bus.topic("block", capacity=1, on_full="block")
    reader = block.subscribe(start="earliest")
    block.publish(1)
    with pytest.raises(ringlet.Full):
        block.publish(2, timeout=0.05)
    assert reader.poll().value == 1
    block.publish(2, timeout=0.05)
    keep = bus.topic("keep", capacity=1, on_full="keep")
    keep.publish(1)
    with pytest.raises(ringlet.Full):
        keep.publish(2)
    reject = bus.topic("reject", capacity=1, on_full="reject")
    _gate = reject.subscribe(start="earliest")
    reject.publish(1)
    with pytest.raises(ringlet.Full):
        reject.publish(2)
    keep.close()
    assert keep.closed
    with pytest.raises(ringlet.Closed):
        keep.publish(3)


def test_publish_many(bus):
    t = bus.topic("many", partitions=2)
    sub = t.subscribe(start="earliest")
    assert t.publish_many(range(100)) == 100
    got = sub.poll_many(max=1000)
    assert sorted(r.value for r in got) == list(range(100))
    b = bus.topic("many-block", capacity=200, on_full="block")
    assert b.publish_many(iter([1, 2, 3])) == 3


def test_rerunnable_cells_and_conflicts(bus):
    t = bus.topic("cell", partitions=3, capacity=16)
    again = bus.topic("cell")
    assert again.partitions == 3 and again.capacity == 16
    assert bus.topic("cell", partitions=3).capacity == 16
    with pytest.raises(ringlet.ConfigError):
        bus.topic("cell", partitions=4)
    assert bus.get_topic("cell").name == "cell"
    with pytest.raises(ringlet.NotFound):
        bus.get_topic("nope")
    bus.queue("q")
    with pytest.raises(ringlet.TypeMismatch):
        bus.topic("q")
    assert "cell" in bus and len(bus) == 3  # cell, q and the journal
    bus.delete("cell")
    assert t.closed and "cell" not in bus
    assert t.config == {"partitions": 3, "capacity": 16, "max_age": None, "on_full": "overwrite"}


def test_max_age_expiry_on_the_manual_clock(bus, clock):
    t = bus.topic("aged", max_age=10.0)
    assert t.max_age == 10.0
    t.publish("old")
    clock.advance(dt.timedelta(seconds=11))
    sub = t.subscribe(start="earliest")
    assert sub.poll(timeout=0) is None


def test_snapshot_and_journal(bus):
    t = bus.topic("snap", partitions=2)
    t.publish("a", partition=1)
    s = bus.snapshot()
    topic = next(x for x in s["topics"] if x["name"] == "snap")
    assert topic["partitions"][1] == {"partition": 1, "earliest": 0, "latest": 1, "retained": 1}
    assert t.snapshot() == topic
    j = bus.journal
    assert j is not None and j.name == "__journal"
    events = [r.value for r in j.subscribe(start="earliest").poll_many()]
    assert {"kind": "append", "topic": "snap", "partition": 1, "offset": 0} in events
    with pytest.raises(ringlet.TypeMismatch):
        j.publish("not allowed")
    assert ringlet.Bus().journal is None


def test_context_manager_closes_subscription(bus):
    t = bus.topic("ctx")
    with t.subscribe(start="earliest") as sub:
        t.publish(1)
        assert sub.poll().value == 1
    with pytest.raises(ringlet.Closed):
        sub.poll(timeout=0)


def test_publish_many_on_a_full_block_topic_waits_at_most_its_timeout(bus):
    t = bus.topic("pm", capacity=2, on_full="block")
    sub = t.subscribe(start="earliest")
    with pytest.raises(ringlet.Full):
        t.publish_many([1, 2, 3], timeout=0.05)
    assert [r.value for r in sub.poll_many(timeout=0)] == [1, 2]  # what fitted
    assert t.publish_many([4, 5], timeout=0.05) == 2  # room again
    assert [r.value for r in sub.poll_many(timeout=0)] == [4, 5]


@pytest.mark.parametrize("on_full", ["overwrite", "block", "reject", "keep"])
def test_unread_records_that_expire_are_reported_as_lagged_under_every_on_full(bus, clock, on_full):
    t = bus.topic("expiring", capacity=8, on_full=on_full, max_age=1.0)
    sub = t.subscribe(start="earliest")
    t.publish_many(["a", "b", "c"])
    assert sub.lag == 3
    clock.advance(2.0)
    assert sub.lag == 0
    t.publish("d")
    with pytest.raises(ringlet.Lagged) as e:
        sub.poll(timeout=0)
    assert e.value.skipped == 3
    assert sub.skipped == 3
    assert sub.poll(timeout=0).value == "d"

"""bus.faults(): crashes, late acks, failed publishes and sends, paused partitions."""

import threading

import pytest

import ringlet


def faults_in_journal(bus, reason):
    sub = bus.journal.subscribe(start="earliest")
    return [
        r.value
        for r in sub.poll_many(max=100_000, timeout=0)
        if r.value["kind"] == "fault" and r.value.get("reason") == reason
    ]


def test_a_crashed_member_keeps_its_partitions_until_the_session_timeout(bus, clock):
    t = bus.topic("orders", partitions=2)
    g = t.group("billing", start="earliest", session_timeout=10)
    a, b = g.join(), g.join()
    assert (a.assignment(), b.assignment()) == ([0], [1])
    faults = bus.faults()
    assert faults.crash(a) is True
    assert faults.crash(a) is False
    with pytest.raises(ringlet.Closed):
        a.poll(timeout=0)
    clock.advance(6)
    assert b.assignment() == [1]
    clock.advance(4)
    assert b.assignment() == [0, 1]
    assert [m for m, _ in g.members()] == [b.id]
    crash = faults_in_journal(bus, "crash")
    assert [(e["group"], e["member"]) for e in crash] == [("billing", a.id)]
    assert faults.figures["crashed"] == 1


def test_a_crashed_share_member_and_a_crashed_delivery_come_back_at_the_timeout(bus, clock):
    t = bus.topic("orders")
    sg = t.share_group("workers", start="earliest", visibility_timeout=5)
    a, b = sg.join(), sg.join()
    t.publish("x")
    held = a.receive(timeout=0)
    assert bus.faults().crash(a)
    with pytest.raises(ringlet.Expired):
        held.ack()
    assert b.receive(timeout=0) is None
    clock.advance(5)
    d = b.receive(timeout=0)
    assert (d.value, d.attempt) == ("x", 2)
    d.ack()
    # A queue delivery: its consumer dies holding it.
    q = bus.queue("jobs", visibility_timeout=5)
    q.send("job")
    d = q.receive(timeout=0)
    assert bus.faults().crash(d)
    assert bus.faults().crash(d) is False  # it is no longer held
    assert q.figures["in_flight"] == 1
    clock.advance(5)
    assert q.receive(timeout=0).attempt == 2


def test_delayed_acks_past_the_visibility_timeout_redeliver(bus, clock):
    q = bus.queue("jobs", visibility_timeout=5)
    faults = bus.faults()
    faults.delay_acks("jobs", 8)
    assert faults.active == [{"name": "jobs", "fault": "delay_acks", "delay_ms": 8000}]
    q.send("resize")
    q.receive(timeout=0).ack()  # returns: the ack is on its way
    clock.advance(8)
    again = q.receive(timeout=0)
    assert again.attempt == 2
    assert faults.figures["late_acks"] == 1
    faults.delay_acks("jobs", None)
    again.ack()
    assert q.figures["acked"] == 1
    assert faults_in_journal(bus, "late_ack")


def test_failed_publishes_and_sends_raise_the_chosen_error(bus):
    t = bus.topic("orders")
    q = bus.queue("jobs")
    faults = bus.faults()
    faults.fail_publishes("orders", 2)
    with pytest.raises(ringlet.Full):
        t.publish(1)
    with pytest.raises(ringlet.Full):
        t.publish_many([2, 3])
    t.publish(4)
    faults.fail_publishes("orders", error="io")
    with pytest.raises(ringlet.Io, match="injected"):
        t.publish(5)
    assert len(t) == 1
    faults.fail_sends("jobs", 1, error="closed")
    with pytest.raises(ringlet.Closed):
        q.send("a")
    assert not q.closed
    q.send("b")
    assert len(q) == 1
    assert faults.figures["failed"] == 4


def test_fault_arguments_are_checked(bus):
    bus.topic("t", partitions=2)
    bus.queue("q")
    f = bus.faults()
    with pytest.raises(ringlet.NotFound):
        f.fail_publishes("missing")
    with pytest.raises(ringlet.TypeMismatch, match="fail_sends"):
        f.fail_publishes("q")
    with pytest.raises(ValueError, match='error must be one of "full", "closed", "io"'):
        f.fail_sends("q", error="slow")
    with pytest.raises(TypeError, match="error must be a str"):
        f.fail_sends("q", error=3)
    with pytest.raises(ValueError, match="non-negative"):
        f.fail_sends("q", -1)
    with pytest.raises(ringlet.OutOfRange):
        f.pause_partition("t", 2)
    with pytest.raises(TypeError, match="Member, a ShareMember or a Delivery"):
        f.crash(bus)
    with pytest.raises(ValueError):
        f.delay_acks("q", float("nan"))


def test_a_paused_partition_delivers_nothing_until_resumed(bus):
    t = bus.topic("orders", partitions=2)
    sub = t.subscribe(start="earliest")
    faults = bus.faults()
    faults.pause_partition("orders", 1)
    for v in range(4):
        t.publish(v, partition=v % 2)
    assert [r.value for r in sub.poll_many(timeout=0)] == [0, 2]
    got = []
    reader = threading.Thread(target=lambda: got.append(sub.poll(timeout=30)))
    reader.start()
    reader.join(0.1)
    assert reader.is_alive()
    faults.resume_partition("orders", 1)
    reader.join(10)
    assert [(r.partition, r.value) for r in got] == [(1, 1)]
    faults.pause_partition("orders", 0)
    faults.clear()
    assert faults.active == []

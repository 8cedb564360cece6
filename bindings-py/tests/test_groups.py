import pytest

import ringlet


def test_group_members_share_partitions_and_resume_from_commits(bus):
    t = bus.topic("orders", partitions=4)
    g = t.group("billing", start="earliest")
    assigned, revoked = [], []
    a = g.join(on_assign=assigned.append, on_revoke=revoked.append)
    for i in range(8):
        t.publish(i)
    first = a.poll_many(max=100, timeout=0)
    assert sorted(r.value for r in first) == list(range(8))
    assert assigned == [[0, 1, 2, 3]]
    a.commit({0: 2, 1: 2, 2: 1, 3: 1})
    b = g.join()
    assert len(g.members()) == 2 and len(g) == 2
    a.assignment()
    assert revoked and sorted(a.assignment() + b.assignment()) == [0, 1, 2, 3]
    # b resumes its partitions from the committed offsets.
    again = b.poll_many(max=100, timeout=0)
    expect = {0: 2, 1: 2, 2: 1, 3: 1}
    assert all(r.offset >= expect[r.partition] for r in again)
    assert len(again) == sum(2 - expect[p] for p in b.assignment())
    assert g.committed() == [2, 2, 1, 1]
    a.leave()
    assert a.closed and len(g) == 1
    with pytest.raises(ringlet.Closed):
        a.poll(timeout=0)
    assert sorted(b.assignment()) == [0, 1, 2, 3]


def test_commit_of_a_revoked_partition_is_not_owner(bus):
    t = bus.topic("t", partitions=2)
    g = t.group("g", start="earliest")
    a = g.join()
    t.publish("x", partition=0)
    t.publish("y", partition=1)
    assert len(a.poll_many(timeout=0)) == 2
    b = g.join()
    with pytest.raises(ringlet.NotOwner) as e:
        a.commit()
    assert e.value.partition in (0, 1)
    assert b.poll_many(timeout=0)  # the new owner reads them again


def test_session_timeout_on_the_manual_clock(bus, clock):
    t = bus.topic("s", partitions=2)
    g = t.group("g", session_timeout=10)
    a, b = g.join(), g.join()
    a.assignment(), b.assignment()
    clock.advance(5)
    b.poll(timeout=0)
    clock.advance(6)
    members = [m for m, _ in g.members()]
    assert members == [b.id]
    assert g.config == {"start": "latest", "auto_commit": False, "session_timeout": 10.0}
    with pytest.raises(ringlet.ConfigError):
        t.group("g", session_timeout=20)
    assert t.group("g").config["session_timeout"] == 10.0


def test_listener_that_raises_surfaces_and_loses_nothing(bus):
    t = bus.topic("l", partitions=1)
    g = t.group("g", start="earliest")
    calls = []

    def boom(parts):
        calls.append(parts)
        if len(calls) == 1:
            raise ValueError("listener failed")

    m = g.join(on_assign=boom)
    t.publish("a")
    with pytest.raises(ValueError):
        m.poll(timeout=0)
    assert m.poll(timeout=0).value == "a"  # nothing was lost


def test_seek_pause_resume_assign_and_offsets(bus, clock):
    t = bus.topic("m", partitions=2)
    g = t.group("g", start="earliest", auto_commit=True)
    m = g.join()
    for i in range(4):
        t.publish(i, partition=i % 2)
    m.pause([0])
    assert m.paused() == [0]
    assert [r.partition for r in m.poll_many(timeout=0)] == [1, 1]
    m.resume([0])
    m.seek(1, 0)
    assert len(m.poll_many(timeout=0)) == 4
    assert m.end_offsets() == [2, 2]
    assert m.positions() == [(0, 2), (1, 2)]
    assert m.offsets_for_times(0) == [0, 0]
    with pytest.raises(ringlet.OutOfRange):
        m.seek(1, 99)
    with m:
        pass
    assert m.closed
    assert g.committed() == [2, 2]  # auto-commit at leave
    other = t.group("manual")
    x = other.join()
    x.assign([1])
    assert x.assignment() == [1]
    assert "Group" in repr(other) and "<table>" in g._repr_html_()


def test_share_group_hands_each_record_to_one_member(bus, clock):
    dlq = bus.queue("dead")
    t = bus.topic("work", partitions=2)
    sg = t.share_group("workers", start="earliest", max_deliveries=2, visibility_timeout=10, dead_letter="dead")
    a, b = sg.join(), sg.join()
    for i in range(6):
        t.publish(i)
    da = a.receive_many(max=3, timeout=0)
    db = b.receive_many(max=10, timeout=0)
    assert sorted(d.value for d in da + db) == list(range(6))
    assert all(d.partition is not None and d.offset is not None for d in da + db)
    for d in db:
        d.ack()
    da[0].nack()
    retry = b.receive(timeout=0)
    assert retry.attempt == 2
    retry.nack()
    assert dlq.receive(timeout=0).value == retry.value
    clock.advance(10)  # the rest time out
    redo = a.receive_many(timeout=0)
    assert sorted(d.attempt for d in redo) == [2, 2]
    assert sg.snapshot()["members"] == 2
    with a:
        pass
    assert a.closed
    assert sg.config["max_deliveries"] == 2
    assert bus.topic("work").share_group("workers").name == "workers"
    with pytest.raises(ringlet.ConfigError):
        t.group("workers")
    assert "share group" in sg._repr_html_()


def test_every_listener_runs_when_one_raises_and_the_first_exception_surfaces(bus, clock):
    # A member that missed its session timeout rejoins at its next call: that call
    # sees its partition revoked and assigned again. on_revoke raises; on_assign
    # still runs (Kafka calls every rebalance listener and rethrows the first).
    t = bus.topic("rj", partitions=1)
    g = t.group("g", start="earliest", session_timeout=10)
    seen = []

    def revoke(parts):
        seen.append(("-", parts))
        raise ValueError("revoke failed")

    m = g.join(on_assign=lambda p: seen.append(("+", p)), on_revoke=revoke)
    assert m.assignment() == [0]
    clock.advance(11)
    t.publish("x")
    with pytest.raises(ValueError, match="revoke failed"):
        m.poll(timeout=0)
    assert seen == [("+", [0]), ("-", [0]), ("+", [0])]
    assert m.poll(timeout=0).value == "x"  # put back: nothing lost

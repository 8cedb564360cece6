import pytest

import ringlet


def test_send_receive_ack_and_identity(bus):
    q = bus.queue("jobs", capacity=4)
    job = {"job": 1}
    q.send(job, key="k", headers=[("h", "v")])
    d = q.receive(timeout=1.0)
    assert d.value is job and d.attempt == 1 and d.key == "k" and d.header("h") == b"v"
    assert d.partition is None and d.offset is None and not d.settled
    d.ack()
    assert d.settled and len(q) == 0
    with pytest.raises(ringlet.AlreadySettled):
        d.nack()
    assert q.receive(timeout=0.01) is None
    f = q.figures
    assert (f["sent"], f["acked"], f["ready"]) == (1, 1, 0)


def test_nack_redelivers_at_the_head_and_dead_letters(bus):
    dlq = bus.queue("jobs.dlq")
    q = bus.queue("jobs", max_deliveries=2, dead_letter="jobs.dlq")
    q.send_many(["a", "b"])
    q.receive().nack()
    again = q.receive()
    assert (again.value, again.attempt) == ("a", 2)
    again.nack()  # last allowed attempt
    dead = dlq.receive(timeout=1)
    assert dead.value == "a"
    assert dead.header("ringlet.dead_letter.reason") == b"max_deliveries"
    assert dead.header("ringlet.dead_letter.source") == b"jobs"
    b = q.receive()
    b.reject()
    assert dlq.receive().header("ringlet.dead_letter.reason") == b"rejected"
    assert q.figures["dead_lettered"] == 2


def test_visibility_timeout_and_expired_settle(bus, clock):
    q = bus.queue("vt", visibility_timeout=30.0)
    q.send("x")
    late = q.receive()
    clock.advance(30)
    with pytest.raises(ringlet.Expired):
        late.ack()
    d = q.receive(timeout=0)
    assert d.attempt == 2
    d.ack()


def test_delayed_send_and_nack_delay(bus, clock):
    q = bus.queue("later")
    q.send("call back", delay=60)
    assert q.receive(timeout=0) is None and q.figures["delayed"] == 1
    clock.advance(60)
    d = q.receive(timeout=0)
    d.nack(delay=5)
    assert q.receive(timeout=0) is None
    clock.advance(5)
    assert q.receive(timeout=0).attempt == 2


def test_with_acks_on_success_and_nacks_on_exception(bus):
    q = bus.queue("ctx")
    q.send("ok")
    with q.receive() as d:
        assert d.value == "ok"
    assert d.settled and q.figures["acked"] == 1
    q.send("boom")
    with pytest.raises(RuntimeError):
        with q.receive() as d:
            raise RuntimeError("worker failed")
    assert q.figures["nacked"] == 1
    again = q.receive(timeout=0)
    assert again.attempt == 2
    with again:
        again.reject()  # settled inside: nothing more
    assert q.figures["dead_lettered"] + q.figures["dropped"] == 1


def test_full_and_closed(bus):
    q = bus.queue("small", capacity=1)
    q.send(1)
    with pytest.raises(ringlet.Full):
        q.send(2, timeout=0)
    with pytest.raises(ringlet.Full):
        q.send(2, timeout=0.05)
    q.close()
    assert q.closed
    with pytest.raises(ringlet.Closed):
        q.send(3)
    got = []
    for d in q:  # drains, then iteration ends
        got.append(d.value)
        d.ack()
    assert got == [1]
    with pytest.raises(ringlet.Closed):
        q.receive()


def test_receive_many_and_dropped_delivery_nacks(bus):
    q = bus.queue("batch")
    q.send_many(range(10))
    ds = q.receive_many(max=4, timeout=0)
    assert [d.value for d in ds] == [0, 1, 2, 3]
    assert q.figures["in_flight"] == 4
    del ds  # dropped unsettled: nacked
    import gc

    gc.collect()
    assert q.figures["in_flight"] == 0 and q.figures["nacked"] == 4
    assert q.receive(timeout=0).attempt == 2


def test_rerunnable_queue_cells(bus):
    q = bus.queue("cellq", capacity=10, visibility_timeout=5)
    assert bus.queue("cellq").capacity == 10
    assert bus.queue("cellq").visibility_timeout == 5.0
    with pytest.raises(ringlet.ConfigError):
        bus.queue("cellq", capacity=11)
    with pytest.raises(ringlet.ConfigError):
        bus.queue("other", dead_letter="missing")
    assert bus.get_queue("cellq").name == q.name
    assert q.config == {"capacity": 10, "visibility_timeout": 5.0, "max_deliveries": None, "dead_letter": None}
    assert "cellq" in repr(q) and "queue" in q._repr_html_()

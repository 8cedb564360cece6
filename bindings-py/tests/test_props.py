"""Property tests: topics and queues against sequential models."""

from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

import ringlet

topic_ops = st.lists(
    st.one_of(
        st.tuples(st.just("publish"), st.integers(0, 3), st.integers()),
        st.tuples(st.just("poll"), st.integers(0, 1), st.just(0)),
        st.tuples(st.just("poll_many"), st.integers(0, 1), st.integers(1, 5)),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(partitions=st.integers(1, 4), capacity=st.integers(1, 6), ops=topic_ops)
def test_topic_matches_a_model(partitions, capacity, ops):
    bus = ringlet.Bus(clock=ringlet.ManualClock())
    t = bus.topic("t", partitions=partitions, capacity=capacity)
    subs = [t.subscribe(start="earliest", on_lag="earliest") for _ in range(2)]
    logs = [[] for _ in range(partitions)]  # every value ever published, by offset
    seen = [[[] for _ in range(partitions)] for _ in subs]  # what each reader got
    skipped = [0, 0]
    for op, a, b in ops:
        if op == "publish":
            p = a % partitions
            r = t.publish(b, partition=p)
            assert (r.partition, r.offset) == (p, len(logs[p]))
            logs[p].append(b)
        else:
            j = a
            try:
                recs = [subs[j].poll(timeout=0)] if op == "poll" else subs[j].poll_many(max=b, timeout=0)
            except ringlet.Lagged as e:
                skipped[j] += e.skipped
                continue
            for r in recs:
                if r is None:
                    continue
                assert r.value == logs[r.partition][r.offset]
                seen[j][r.partition].append(r.offset)
    for p in range(partitions):
        end = len(logs[p])
        assert t.end_offsets()[p] == end
        assert t.earliest_offsets()[p] == max(0, end - capacity)
    for j in range(2):
        # drain: every offset is either read exactly once or reported as skipped
        while True:
            try:
                recs = subs[j].poll_many(timeout=0)
            except ringlet.Lagged as e:
                skipped[j] += e.skipped
                continue
            if not recs:
                break
            for r in recs:
                seen[j][r.partition].append(r.offset)
        total = 0
        for p in range(partitions):
            offs = seen[j][p]
            assert offs == sorted(set(offs))  # in order, no duplicates
            total += len(offs)
        assert total + skipped[j] == sum(len(log) for log in logs)


queue_ops = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.integers()),
        st.tuples(st.just("receive"), st.just(0)),
        st.tuples(st.just("ack"), st.integers(0, 10)),
        st.tuples(st.just("nack"), st.integers(0, 10)),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(capacity=st.integers(1, 5), ops=queue_ops)
def test_queue_matches_a_model(capacity, ops):
    bus = ringlet.Bus(clock=ringlet.ManualClock())
    q = bus.queue("q", capacity=capacity)
    returned = deque()  # model: nacked values, ahead of fresh ones, in the order they came back
    ready = deque()  # fresh values, FIFO
    in_flight = []  # (delivery, value)
    acked = []
    for op, x in ops:
        if op == "send":
            full = len(returned) + len(ready) + len(in_flight) >= capacity
            try:
                q.send(x, timeout=0)
                assert not full
                ready.append(x)
            except ringlet.Full:
                assert full
        elif op == "receive":
            d = q.receive(timeout=0)
            if not returned and not ready:
                assert d is None
            else:
                assert d.value == (returned or ready).popleft()
                in_flight.append((d, d.value))
        elif in_flight:
            d, v = in_flight.pop(x % len(in_flight))
            if op == "ack":
                d.ack()
                acked.append(v)
            else:
                d.nack()
                returned.append(v)
        f = q.figures
        n_ready = len(returned) + len(ready)
        assert (f["ready"], f["in_flight"], f["acked"]) == (n_ready, len(in_flight), len(acked))
        assert len(q) == n_ready

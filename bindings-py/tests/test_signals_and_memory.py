"""Ctrl-C interrupts blocked calls; evicted values are released."""

import gc
import os
import signal
import threading
import time

import pytest

import ringlet


def _interrupt_after(seconds: float) -> threading.Thread:
    def fire():
        time.sleep(seconds)
        os.kill(os.getpid(), signal.SIGINT)

    th = threading.Thread(target=fire)
    th.start()
    return th


@pytest.fixture
def ctrl_c():
    # Python installs its KeyboardInterrupt handler only if SIGINT was not ignored
    # when it started (a background job of a non-interactive shell starts with it
    # ignored): install it for the test, as an interactive session has it.
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


@pytest.mark.parametrize("what", ["poll", "iterate", "receive", "member", "publish", "send"])
def test_ctrl_c_interrupts_a_blocked_call(what, ctrl_c):
    bus = ringlet.Bus()
    t = bus.topic("t", capacity=1, on_full="block")
    q = bus.queue("q", capacity=1)
    sub = t.subscribe()
    calls = {
        "poll": lambda: sub.poll(),
        "iterate": lambda: next(iter(sub)),
        "receive": lambda: q.receive(),
        "member": lambda: t.group("g").join().poll(),
        "publish": lambda: (t.publish(1), t.publish(2)),
        "send": lambda: (q.send(1), q.send(2)),
    }
    th = _interrupt_after(0.2)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        calls[what]()
    assert time.monotonic() - start < 5
    th.join()


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit])
def test_ctrl_c_inside_a_callback_propagates_and_is_not_a_failed_record(exc):
    bus = ringlet.Bus()
    t = bus.topic("t")
    seen = []
    raised = []

    def f(r):
        if r.value == 2 and not raised:
            raised.append(1)
            raise exc()
        seen.append(r.value)

    bus.topology().on_error("skip")
    t.stream().for_each(f)
    t.publish_many([1, 2, 3])
    with pytest.raises(exc):
        bus.run_until_idle()
    assert seen == [1]
    assert bus.topology().errors == [], "not counted as a failed record"
    bus.run_until_idle()
    assert seen == [1, 2, 3], "the interrupted record is read again"


def test_ctrl_c_stops_a_runaway_topology(ctrl_c):
    bus = ringlet.Bus()
    t = bus.topic("loop", capacity=64)
    t.stream().for_each(lambda r: t.publish(r.value + 1))
    bus.topology().on_error("skip")
    t.publish(0)
    th = _interrupt_after(0.3)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        bus.run_until_idle()
    assert time.monotonic() - start < 5
    th.join()


class Tracked:
    live = 0

    def __init__(self) -> None:
        Tracked.live += 1
        self.payload = bytearray(1024)

    def __del__(self) -> None:
        Tracked.live -= 1


def test_evicted_values_are_released():
    bus = ringlet.Bus()
    t = bus.topic("t", capacity=16, partitions=2)
    sub = t.subscribe(start="earliest")
    for _ in range(50_000):
        t.publish(Tracked())
    sub.seek("earliest")
    sub.poll_many(max=8)
    gc.collect()
    # retained: 16 per partition, plus up to 64 per partition a reader copied
    # ahead; nothing else is kept alive
    bound = 2 * 16 + 2 * 64
    assert Tracked.live <= bound
    q = bus.queue("q", capacity=8)
    for _ in range(20_000):
        q.send(Tracked())
        q.receive().ack()
    gc.collect()
    assert Tracked.live <= bound + 8


def test_memory_does_not_grow_over_publish_and_evict_cycles():
    psutil = pytest.importorskip("psutil")
    proc = psutil.Process()
    bus = ringlet.Bus()
    t = bus.topic("mem", capacity=256)
    sub = t.subscribe()

    def cycle():
        for i in range(20_000):
            t.publish({"i": i, "blob": "x" * 100}, key=str(i), headers={"h": "v"})
        while True:
            try:
                if not sub.poll_many(max=10_000, timeout=0):
                    break
            except ringlet.Lagged:
                continue

    for _ in range(3):
        cycle()
    gc.collect()
    before = proc.memory_info().rss
    for _ in range(20):
        cycle()
    gc.collect()
    grown = proc.memory_info().rss - before
    assert grown < 8 * 1024 * 1024, f"RSS grew by {grown} bytes over 400 000 publishes"


def test_freeing_a_bus_releases_its_values():
    bus = ringlet.Bus()
    t = bus.topic("t", capacity=100)
    for _ in range(100):
        t.publish(Tracked())
    before = Tracked.live
    del t, bus
    gc.collect()
    assert Tracked.live <= before - 100

"""Python benchmark: Ringlet against queue.Queue, collections.deque and
asyncio.Queue, measured in the same run. Prints events/s and ratios.

Run with nothing else on the machine: ``make bench``.
"""

from __future__ import annotations

import asyncio
import collections
import queue
import threading
import time
from collections import Counter

import ringlet

N = 200_000
BATCH = 256


def best(f, runs=3):
    return max(f() for _ in range(runs))


def two_threads(produce, consume):
    t0 = time.perf_counter()
    c = threading.Thread(target=consume)
    c.start()
    produce()
    c.join()
    return N / (time.perf_counter() - t0)


def queue_queue():
    q: queue.Queue = queue.Queue(maxsize=1024)

    def produce():
        for i in range(N):
            q.put(i)

    def consume():
        for _ in range(N):
            q.get()

    return two_threads(produce, consume)


def deque_single():
    d: collections.deque = collections.deque()
    t0 = time.perf_counter()
    for i in range(N):
        d.append(i)
        d.popleft()
    return N / (time.perf_counter() - t0)


def ringlet_per_event():
    t = ringlet.Bus().topic("b", capacity=1024, on_full="block")
    sub = t.subscribe()

    def produce():
        for i in range(N):
            t.publish(i)

    def consume():
        poll = sub.poll
        for _ in range(N):
            poll()

    return two_threads(produce, consume)


def ringlet_batched():
    t = ringlet.Bus().topic("b", capacity=4096, on_full="block")
    sub = t.subscribe()
    chunk = list(range(BATCH))

    def produce():
        for _ in range(N // BATCH):
            t.publish_many(chunk)

    def consume():
        got = 0
        while got < (N // BATCH) * BATCH:
            got += len(sub.poll_many(max=4096))

    return two_threads(produce, consume)


def ringlet_queue_per_event():
    q = ringlet.Bus().queue("q", capacity=1024)

    def produce():
        for i in range(N):
            q.send(i)

    def consume():
        for _ in range(N):
            q.receive().ack()

    return two_threads(produce, consume)


def asyncio_queue():
    async def main():
        q: asyncio.Queue = asyncio.Queue(maxsize=1024)

        async def produce():
            for i in range(N):
                await q.put(i)

        async def consume():
            for _ in range(N):
                await q.get()

        t0 = time.perf_counter()
        await asyncio.gather(produce(), consume())
        return N / (time.perf_counter() - t0)

    return asyncio.run(main())


def ringlet_async():
    async def main():
        t = ringlet.Bus().topic("a", capacity=1024, on_full="block")
        sub = t.subscribe()

        async def produce():
            for i in range(N):
                await t.publish_async(i)

        async def consume():
            n = 0
            async for _ in sub:
                n += 1
                if n == N:
                    break

        t0 = time.perf_counter()
        await asyncio.gather(produce(), consume())
        return N / (time.perf_counter() - t0)

    return asyncio.run(main())


KEYS = [f"user-{k}" for k in range(1024)]


def ringlet_pipeline():
    """filter -> map -> count per key (a table), run by run_until_idle; publish + process."""
    bus = ringlet.Bus()
    t = bus.topic("events", capacity=1 << 18)
    counts = t.stream().filter(lambda r: r.value % 2 == 0).map(lambda r: r.value * 3).group_by_key().count()
    t0 = time.perf_counter()
    for i in range(N):
        t.publish(i, key=KEYS[i % 1024])
    assert bus.run_until_idle() == N
    rate = N / (time.perf_counter() - t0)
    assert sum(v for _, v in counts.items()) == N // 2
    return rate


def python_pipeline():
    """The same computation as plain Python over a list (no bus): the floor."""
    events = [(KEYS[i % 1024], i) for i in range(N)]
    t0 = time.perf_counter()
    counts = Counter()
    for k, v in events:
        if v % 2 == 0:
            v = v * 3
            counts[k] += 1
    rate = N / (time.perf_counter() - t0)
    assert sum(counts.values()) == N // 2
    return rate


def schema_cost_ns():
    """Extra time per publish of a 10-field dict on a topic with a JSON Schema."""
    props = {f"f{i}": {"type": ["integer", "string", "number"][i % 3]} for i in range(10)}
    schema = {"type": "object", "properties": props, "required": list(props)}
    value = {f"f{i}": [7, "a short string", 2.5][i % 3] for i in range(10)}

    def per_publish(**kw):
        t = ringlet.Bus().topic("t", capacity=4096, **kw)
        t0 = time.perf_counter()
        for _ in range(N):
            t.publish(value)
        return (time.perf_counter() - t0) / N * 1e9

    plain = min(per_publish() for _ in range(3))
    checked = min(per_publish(schema=schema) for _ in range(3))
    return checked - plain, plain


def main():
    rows = {
        "queue.Queue (2 threads)": best(queue_queue),
        "deque (1 thread)": best(deque_single),
        "asyncio.Queue": best(asyncio_queue),
        "ringlet topic, per event (2 threads)": best(ringlet_per_event),
        "ringlet topic, batched (2 threads)": best(ringlet_batched),
        "ringlet queue send+receive+ack (2 threads)": best(ringlet_queue_per_event),
        "ringlet async: publish_async + async for": best(ringlet_async),
        "ringlet stream filter->map->count (1 thread)": best(ringlet_pipeline),
        "plain Python filter->map->Counter": best(python_pipeline),
    }
    for name, rate in rows.items():
        print(f"{name:45} {rate / 1e6:7.2f} M events/s")
    qq, dq, aq = rows["queue.Queue (2 threads)"], rows["deque (1 thread)"], rows["asyncio.Queue"]
    checks = [
        ("per event vs queue.Queue", rows["ringlet topic, per event (2 threads)"] / qq, 5),
        ("batched vs queue.Queue", rows["ringlet topic, batched (2 threads)"] / qq, 20),
        ("async vs asyncio.Queue", rows["ringlet async: publish_async + async for"] / aq, 2),
        ("per event vs deque", rows["ringlet topic, per event (2 threads)"] / dq, None),
        ("batched vs deque", rows["ringlet topic, batched (2 threads)"] / dq, None),
        ("queue per event vs queue.Queue", rows["ringlet queue send+receive+ack (2 threads)"] / qq, None),
        (
            "stream pipeline vs plain Python",
            rows["ringlet stream filter->map->count (1 thread)"] / rows["plain Python filter->map->Counter"],
            None,
        ),
    ]
    print()
    for name, ratio, target in checks:
        verdict = "" if target is None else (f"target >= {target}x: " + ("met" if ratio >= target else "MISSED"))
        print(f"{name:42} {ratio:6.2f}x  {verdict}")
    cost, plain = schema_cost_ns()
    verdict = "met" if cost <= 2000 else "MISSED"
    print(f"{'schema check per publish (10-field dict)':42} {cost:6.0f} ns (publish alone {plain:.0f} ns)  goal <= 2 us: {verdict}")


if __name__ == "__main__":
    main()

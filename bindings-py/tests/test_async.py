import asyncio

import pytest

import ringlet


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


def test_await_next_wakes_on_publish_from_another_thread():
    bus = ringlet.Bus()
    t = bus.topic("a")
    sub = t.subscribe()

    async def main():
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, lambda: loop.run_in_executor(None, t.publish, "hello"))
        return await sub.next()

    assert run(main()).value == "hello"


def test_async_for_ends_when_the_topic_closes_and_counts_gaps():
    bus = ringlet.Bus()
    t = bus.topic("b", capacity=4)
    sub = t.subscribe(start="earliest")
    for i in range(10):
        t.publish(i)

    async def main():
        asyncio.get_running_loop().call_later(0.05, t.close)
        return [r.value async for r in sub]

    assert run(main()) == [6, 7, 8, 9]
    assert sub.skipped == 6


def test_cancelled_wait_loses_nothing():
    bus = ringlet.Bus()
    t = bus.topic("c")
    sub = t.subscribe()
    q = bus.queue("cq")

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(sub.next(), 0.05)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(q.receive_async(), 0.05)
        t.publish("kept")
        q.send("kept too")
        return (await sub.next()).value, (await q.receive_async()).value

    assert run(main()) == ("kept", "kept too")
    # the cancelled waits took nothing; the delivery dropped unsettled is ready again
    assert (q.figures["sent"], q.figures["ready"], q.figures["nacked"]) == (1, 1, 1)


def test_queue_async_send_receive_and_visibility_wakeup():
    clock = ringlet.ManualClock()
    bus = ringlet.Bus(clock=clock)
    q = bus.queue("jobs", capacity=1, visibility_timeout=5)

    async def main():
        await q.send_async("a")
        blocked = asyncio.ensure_future(q.send_async("b"))
        await asyncio.sleep(0.02)
        assert not blocked.done()
        d = await q.receive_async()
        d.ack()
        await asyncio.wait_for(blocked, 2)
        d2 = await q.receive_async()
        waiting = asyncio.ensure_future(q.receive_async())
        await asyncio.sleep(0.02)
        assert not waiting.done()
        clock.advance(5)  # d2 times out: the waiter gets it again
        again = await asyncio.wait_for(waiting, 2)
        return d2.value, again.value, again.attempt

    assert run(main()) == ("b", "b", 2)


def test_async_for_over_a_queue_member_and_share_member():
    bus = ringlet.Bus()
    t = bus.topic("g", partitions=2, capacity=100, on_full="block")
    q = bus.queue("q2")
    m = t.group("grp", start="earliest").join()
    s = t.share_group("sh", start="earliest").join()
    for i in range(5):
        t.publish(i)
        q.send(i)

    async def main():
        got_m = [await m.next() for _ in range(5)]
        got_s = []
        async for d in s:
            got_s.append(d.value)
            d.ack()
            if len(got_s) == 5:
                break
        got_q = []
        q.close()
        async for d in q:
            got_q.append(d.value)
            d.ack()
        r = await t.publish_async("more")
        return sorted(r.value for r in got_m), sorted(got_s), got_q, r

    vm, vs, vq, r = run(main())
    assert vm == vs == vq == list(range(5))
    assert isinstance(r, ringlet.Receipt)


def test_member_async_for_ends_at_leave_or_close():
    bus = ringlet.Bus()
    t = bus.topic("h")
    m = t.group("g", start="earliest").join()
    t.publish(1)

    async def main():
        asyncio.get_running_loop().call_later(0.05, t.close)
        return [r.value async for r in m]

    assert run(main()) == [1]


def test_a_raising_listener_surfaces_from_await_and_loses_nothing():
    bus = ringlet.Bus()
    t = bus.topic("l", partitions=2)
    g = t.group("g", start="earliest")
    m = g.join(on_revoke=lambda ps: 1 / 0)
    m.assignment()
    other = g.join()  # m loses a partition: its listener raises at m's next call

    async def main():
        t.publish("a", partition=0)
        t.publish("b", partition=1)
        with pytest.raises(ZeroDivisionError):
            await asyncio.wait_for(m.next(), 2)
        return (await asyncio.wait_for(m.next(), 2)).partition

    assert run(main()) in m.assignment()
    assert sorted(m.assignment() + other.assignment()) == [0, 1]

"""Stream processing, compacted topics, event stores and aggregates from Python."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

import ringlet


def manual() -> ringlet.Bus:
    return ringlet.Bus(clock=ringlet.ManualClock())


def values(t: ringlet.Topic) -> list[Any]:
    sub = t.subscribe(start="earliest")
    return [r.value for r in sub.poll_many(10_000)]


def test_operators_and_to() -> None:
    bus = manual()
    clicks = bus.topic("clicks", partitions=2)
    seen: list[str] = []
    s = clicks.stream()
    evens, odds = s.branch(lambda r: r.value % 2 == 0, lambda r: True)
    evens.map(lambda r: f"even {r.value}").merge(odds.map(lambda r: f"odd {r.value}")).peek(
        lambda r: seen.append(r.value)
    ).to("words")
    s.flat_map(lambda r: [r.value] * 2).key_by(lambda r: "k" + str(r.value)).filter(lambda r: r.value > 3).to("big")
    for v in range(6):
        clicks.publish(v, key=f"u{v % 2}")
    assert bus.run_until_idle() == 6
    assert sorted(values(bus.get_topic("words"))) == sorted(seen)
    assert sorted(seen) == ["even 0", "even 2", "even 4", "odd 1", "odd 3", "odd 5"]
    big = bus.get_topic("big").subscribe(start="earliest").poll_many(100)
    assert sorted((r.key, r.value) for r in big) == [("k4", 4), ("k4", 4), ("k5", 5), ("k5", 5)]
    assert bus.run_until_idle() == 0


def test_aggregations_tables_and_joins() -> None:
    bus = manual()
    orders = bus.topic("orders")
    customers = bus.topic("customers")
    counts = orders.stream().group_by_key().count()
    totals = orders.stream().group_by_key(store="totals").aggregate(0, lambda acc, r: acc + r.value["amount"])
    names = customers.stream().group_by_key(store="names").reduce(lambda old, new: new)
    joined: list[str] = []
    orders.stream().join(names, lambda r, name: f"{name}:{r.value['amount']}").for_each(lambda r: joined.append(r.value))
    left: list[str] = []
    orders.stream().left_join(names, lambda r, name: f"{name}").for_each(lambda r: left.append(r.value))
    customers.publish("Ada", key="c1")
    bus.run_until_idle()
    for c, a in [("c1", 5), ("c2", 7), ("c1", 3)]:
        orders.publish({"amount": a}, key=c)
    orders.publish({"amount": 100})  # no key: not aggregated
    bus.run_until_idle()
    assert counts["c1"] == 2 and counts.get("c2") == 1 and counts.get("zz") is None
    assert "c1" in counts and len(counts) == 2
    assert counts.items() == [("c1", 2), ("c2", 1)]
    assert totals.to_dict() == {"c1": 8, "c2": 7}
    assert joined == ["Ada:5", "Ada:3"]
    assert sorted(left) == ["Ada", "Ada", "None", "None"]
    with pytest.raises(KeyError):
        counts["nobody"]
    assert counts.changelog == "streams-KSTREAM-AGGREGATE-STATE-STORE-0000000001-changelog"
    assert "<table>" in counts._repr_html_()
    updates: list[int] = []
    counts.to_stream().for_each(lambda r: updates.append(r.value))
    orders.publish({"amount": 1}, key="c2")
    bus.run_until_idle()
    assert updates == [2]


def model_tumbling(records: list[tuple[str, int]], size: int, grace: int) -> tuple[Counter[tuple[str, int]], int]:
    st = -(2**62)
    out: Counter[tuple[str, int]] = Counter()
    dropped = 0
    for k, ts in records:
        st = max(st, ts)
        start = ts - ts % size
        if start + size + grace > st:
            out[(k, start)] += 1
        else:
            dropped += 1
    return out, dropped


def test_tumbling_windows_against_a_model() -> None:
    import random

    rnd = random.Random(7)
    bus = manual()
    t = bus.topic("clicks", capacity=4096)
    table = t.stream().group_by_key().window(tumbling=10, grace=3).count()
    now, records = 0, []
    for _ in range(300):
        now += rnd.randrange(0, 4) * 1000
        late = rnd.randrange(0, 16) * 1000 if rnd.random() < 0.25 else 0
        records.append((f"k{rnd.randrange(3)}", max(0, now - late)))
    for k, ts in records:
        t.publish(1, key=k, timestamp=ts)
    bus.run_until_idle()
    want, dropped = model_tumbling(records, 10_000, 3_000)
    got = Counter({(k, s): v for k, s, e, v in table.items()})
    assert got == want
    assert table.dropped_late == dropped > 0
    assert table.stream_time == max(ts for _, ts in records)
    assert table.get("k0", 0) == want.get(("k0", 0))


def test_session_and_hopping_windows() -> None:
    bus = manual()
    t = bus.topic("t")
    sessions = t.stream().group_by_key().window(session=2).aggregate(
        list, lambda acc, r: acc + [r.value], merge=lambda a, b: a + b
    )
    hops = t.stream().group_by_key(store="hops").window(hopping=(10, 5)).count()
    for v, ts in [("a", 0), ("b", 3000), ("c", 1500), ("d", 9000)]:
        t.publish(v, key="u", timestamp=ts)
    bus.run_until_idle()
    assert [(s, e, sorted(v)) for s, e, v in sessions.fetch("u")] == [(0, 3000, ["a", "b", "c"]), (9000, 9000, ["d"])]
    assert hops.fetch("u") == [(-5000, 5000, 3), (0, 10000, 4), (5000, 15000, 1)]
    with pytest.raises(ringlet.ConfigError):
        t.stream().group_by_key(store="x").window(session=1).aggregate(0, lambda a, r: a)
    with pytest.raises(ValueError):
        t.stream().group_by_key().window(tumbling=1, session=1)


def test_a_raising_callback_surfaces_with_its_record_and_is_retried() -> None:
    bus = manual()
    t = bus.topic("in")
    broken = {"on": True}

    def parse(r: ringlet.Record) -> int:
        if r.value == "bad" and broken["on"]:
            raise ValueError("cannot parse")
        return len(r.value)

    lengths = t.stream().map(parse).named("parse").group_by_key().count()
    for v in ["ok", "bad", "fine"]:
        t.publish(v, key="k")
    with pytest.raises(ringlet.StreamError) as info:
        bus.run_until_idle()
    e = info.value
    assert (e.node, e.topic, e.partition, e.offset, e.key) == ("parse", "in", 0, 1, "k")
    assert isinstance(e.__cause__, ValueError) and str(e.__cause__) == "cannot parse"
    assert e.record is not None and e.record.value == "bad"
    assert lengths["k"] == 1  # "ok" only; "bad" applied nothing, "fine" waits
    with pytest.raises(ringlet.StreamError):
        bus.run_until_idle()  # not skipped
    broken["on"] = False
    assert bus.run_until_idle() == 2
    assert lengths["k"] == 3


def test_skip_keeps_errors_and_goes_on() -> None:
    bus = manual()
    t = bus.topic("in")
    topo = bus.topology("app")
    out: list[int] = []
    topo.stream(t).map(lambda r: 10 // r.value).for_each(lambda r: out.append(r.value))
    topo.on_error("skip")
    for v in [1, 0, 2]:
        t.publish(v)
    assert topo.run_until_idle() == 3
    assert out == [10, 5]
    [err] = topo.errors
    assert isinstance(err, ringlet.StreamError) and err.offset == 1
    with pytest.raises(ValueError):
        topo.on_error("ignore")


def test_restart_resumes_from_committed_offsets_with_tables_restored() -> None:
    bus = manual()
    t = bus.topic("events", partitions=3, capacity=10_000)
    want: Counter[str] = Counter()
    for i in range(300):
        k = f"k{i % 7}"
        want[k] += 1
        t.publish(i, key=k)
    topo = bus.topology("app")
    counts = topo.stream(t).group_by_key(store="c").count()
    topo.step()
    topo.close()
    for i in range(100):
        want["k1"] += 1
        t.publish(i, key="k1")
    topo2 = bus.topology("app")
    counts2 = topo2.stream(t).group_by_key(store="c").count()
    assert len(counts2) > 0
    topo2.run_until_idle()
    assert counts2.to_dict() == dict(want)
    del counts


def test_spawn_processes_on_a_thread() -> None:
    bus = ringlet.Bus()
    t = bus.topic("in", capacity=100_000)
    topo = bus.topology("worker")
    sums = topo.stream(t).group_by_key().reduce(lambda a, b: a + b)
    th = topo.spawn()
    for i in range(2000):
        t.publish(i, key="all")
    deadline = time.monotonic() + 20
    while sums.get("all") != sum(range(2000)):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    th.stop()
    assert th.finished


def test_describe_renders() -> None:
    bus = manual()
    t = bus.topic("clicks")
    t.stream().filter(lambda r: True).to("out")
    d = bus.topology().describe()
    assert str(d).startswith("Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [clicks])")
    assert d.svg.startswith("<svg") and d._repr_svg_() == d.svg
    assert d.mermaid.startswith("flowchart LR")
    assert [n["op"] for n in d.to_dict()["nodes"]] == ["source", "filter", "to"]


def test_bad_arguments_raise_typed_errors() -> None:
    bus = manual()
    s = bus.topic("t").stream()
    with pytest.raises(TypeError):
        s.map(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        s.to(3.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        s.group_by_key().window(hopping=5)  # type: ignore[arg-type]
    with pytest.raises(ringlet.ConfigError):
        s.group_by_key(store="x").count()
        s.group_by_key(store="x").count()
    with pytest.raises(ringlet.InvalidName):
        bus.topology("bad name")


def test_compacted_topics_and_tombstones() -> None:
    bus = manual()
    users = bus.topic("users", compacted=True)
    users.publish("Ada", key="u1")
    users.publish("Bob", key="u2")
    users.publish("Ada L.", key="u1")
    users.publish(None, key="u2")  # a tombstone
    recs = users.subscribe(start="earliest").poll_many(10)
    assert [(r.offset, r.key, r.value) for r in recs] == [(2, "u1", "Ada L."), (3, "u2", None)]
    assert len(users) == 2
    with pytest.raises(ValueError):
        users.publish("no key")
    assert bus.snapshot()["topics"][0]["config"]["compacted"] is True


def test_event_store_and_aggregates() -> None:
    bus = manual()
    store = bus.event_store("accounts", partitions=2, capacity=1000)
    assert store.append("a1", [{"type": "opened"}], expected_version=0) == 1
    with pytest.raises(ringlet.VersionConflict) as info:
        store.append("a1", [{"type": "x"}], expected_version=0)
    assert (info.value.expected, info.value.actual) == (0, 1)
    assert store.load("a1") == [{"type": "opened"}] and store.version("a1") == 1 and store.ids() == ["a1"]

    class Account:
        def __init__(self) -> None:
            self.balance = 0

        def apply(self, e: dict[str, Any]) -> None:
            if e["type"] == "deposited":
                self.balance += e["amount"]

        def handle(self, c: dict[str, Any]) -> list[dict[str, Any]]:
            if c["amount"] <= 0:
                raise ValueError("amount must be positive")
            return [{"type": "deposited", "amount": c["amount"]}]

    accounts = store.aggregates(Account)
    assert accounts.execute("a1", {"amount": 5}) == ([{"type": "deposited", "amount": 5}], 2)
    with pytest.raises(ValueError, match="positive"):
        accounts.execute("a1", {"amount": 0})
    acc, version = accounts.load("a1")
    assert (acc.balance, version) == (5, 2)
    # CQRS: a projection of balances, queried while commands go through aggregates.
    balances = store.topic.stream().group_by_key(store="balances").aggregate(
        0, lambda b, r: b + r.value.get("amount", 0)
    )
    bus.run_until_idle()
    assert balances["a1"] == 5
    full = bus.event_store("tiny", capacity=1)
    full.append("x", [1])
    with pytest.raises(ringlet.Full):
        full.append("x", [2])


def test_an_aggregate_whose_apply_raises_fails_load_and_execute_with_that_exception() -> None:
    bus = manual()
    store = bus.event_store("bad")
    store.append("a", [1])

    class Corrupt:
        def apply(self, e: Any) -> None:
            raise KeyError("corrupt event")

        def handle(self, c: Any) -> list[Any]:
            return []

    aggs = store.aggregates(Corrupt)
    with pytest.raises(KeyError, match="corrupt event"):
        aggs.load("a")
    with pytest.raises(KeyError, match="corrupt event"):
        aggs.execute("a", {})

    def broken_factory() -> Any:
        raise RuntimeError("no aggregate")

    with pytest.raises(RuntimeError, match="no aggregate"):
        store.aggregates(broken_factory).load("a")


@pytest.mark.parametrize(
    "window", [dict(hopping=(1e6, 0.001)), dict(tumbling=0), dict(hopping=(4, 0)), dict(session=0)]
)
def test_windows_of_zero_size_or_too_many_per_record_raise_config_error(window: dict[str, Any]) -> None:
    bus = manual()
    t = bus.topic("w")
    with pytest.raises(ringlet.ConfigError, match="at least"):
        t.stream().group_by_key().window(**window).count()


def test_a_stream_written_back_to_its_own_topic_raises_config_error() -> None:
    bus = manual()
    t = bus.topic("loop")
    with pytest.raises(ringlet.ConfigError, match="loop for ever"):
        t.stream().map(lambda r: r.value).to(t)
    t.publish(1)
    assert bus.run_until_idle() == 1  # nothing loops


def test_a_stream_added_after_records_were_processed_starts_at_the_topics_earliest() -> None:
    bus = manual()
    orders = bus.topic("orders")
    counts = orders.stream().group_by_key().count()
    for k in ["ada", "bob", "ada"]:
        orders.publish(1, key=k)
    bus.run_until_idle()
    # A later notebook cell: a second aggregation counts every record so far.
    later = orders.stream().group_by_key(store="later").count()
    bus.run_until_idle()
    assert later.items() == [("ada", 2), ("bob", 1)]
    assert counts.items() == [("ada", 2), ("bob", 1)]


def _finishes_within(seconds: float, f) -> None:
    """Runs `f` on a daemon thread: a deadlock fails the test instead of hanging it."""
    import threading

    errors: list[BaseException] = []

    def run() -> None:
        try:
            f()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    th = threading.Thread(target=run, daemon=True)
    th.start()
    th.join(seconds)
    assert not th.is_alive(), "deadlocked"
    if errors:
        raise errors[0]


def test_stream_thread_stop_from_a_callback_in_run_until_idle_does_not_deadlock() -> None:
    def scenario() -> None:
        bus = ringlet.Bus()
        t = bus.topic("in")
        topo = bus.topology("stop-in-step")
        stopped = []

        def f(r: ringlet.Record) -> None:
            if not stopped:
                th = topo.spawn()  # its first step waits for this one
                time.sleep(0.05)
                th.stop()
                stopped.append(th.finished)

        topo.stream(t).for_each(f)
        t.publish(1)
        topo.run_until_idle()
        assert len(stopped) == 1

    _finishes_within(10, scenario)


def test_stream_thread_stop_from_its_own_callback() -> None:
    def scenario() -> None:
        bus = ringlet.Bus()
        t = bus.topic("in")
        topo = bus.topology("self-stop")
        holder: list[Any] = []
        stopped: list[bool] = []

        def f(r: ringlet.Record) -> None:
            if holder:
                holder.pop().stop()
                stopped.append(True)

        topo.stream(t).for_each(f)
        holder.append(topo.spawn())
        t.publish(1)
        deadline = time.monotonic() + 5
        while not stopped and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stopped == [True]

    _finishes_within(10, scenario)

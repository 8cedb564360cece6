"""Durable topics from Python: what a restart (a fresh process) finds, what each
codec takes, what a locked, closed or damaged data directory does, and a
publisher killed with SIGKILL at random moments."""

import math
import os
import pathlib
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import ringlet


def run(code: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs ``code`` in a fresh interpreter (a restart)."""
    r = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    if check:
        assert r.returncode == 0, r.stderr
    return r


def values(topic: ringlet.Topic) -> list[object]:
    return [r.value for r in topic.subscribe("earliest").poll_many(100_000, timeout=0)]


def test_records_come_back_in_a_new_process_at_their_offsets(tmp_path: pathlib.Path) -> None:
    run(
        f"""
        import ringlet
        with ringlet.Bus(data_dir={str(tmp_path)!r}) as bus:
            t = bus.topic("orders", durable=True, partitions=3, capacity=100)
            for i in range(20):
                r = t.publish({{"id": i, "lines": [i, i * 1.5], "paid": i % 2 == 0, "note": None}},
                              key=f"customer-{{i % 4}}", headers={{"source": "web"}})
                print(r.partition, r.offset, i)
        """
    )
    with ringlet.Bus(data_dir=tmp_path) as bus:
        # Left out, the options are what is stored: 3 partitions, json.
        t = bus.topic("orders")
        assert t.partitions == 3
        got = sorted(
            (r.partition, r.offset, r.value["id"]) for r in t.subscribe("earliest").poll_many(100, timeout=0)
        )
        assert len(got) == 20
        first = t.subscribe("earliest").poll(timeout=0)
        assert first is not None
        # Dicts come back with their keys in the order they were published.
        assert list(first.value) == ["id", "lines", "paid", "note"]
        assert first.headers == [("source", b"web")]
        assert first.value["lines"][1] == first.value["id"] * 1.5
        # Offsets continue, never reused.
        ends = t.end_offsets()
        r = t.publish({"id": 20}, key="customer-0")
        assert r.offset == ends[r.partition]


def test_metadata_and_schema_come_back_in_a_new_process(tmp_path: pathlib.Path) -> None:
    schema = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
    run(
        f"""
        import ringlet
        with ringlet.Bus(data_dir={str(tmp_path)!r}) as bus:
            t = bus.topic("orders", durable=True, owner="sales", description="Orders", tags=["pii:none"],
                          schema={schema!r})
            t.publish({{"id": 1}})
            t.set_schema({{**{schema!r}, "properties": {{"id": {{"type": "integer"}}, "note": {{"type": "string"}}}}}})
        """
    )
    with ringlet.Bus(data_dir=tmp_path) as bus:
        t = bus.topic("orders")
        assert t.metadata == {"owner": "sales", "description": "Orders", "tags": ["pii:none"], "schema": t.schema}
        assert t.schema is not None and "note" in t.schema["properties"]
        with pytest.raises(ringlet.SchemaError) as e:
            t.publish({"id": "one"})
        assert (e.value.path, e.value.rule) == ("/id", "type")
        with pytest.raises(ringlet.ConfigError, match="owner"):
            bus.topic("orders", owner="web")
        assert bus.catalog()[0]["owner"] == "sales"


def test_identity_holds_within_the_process(tmp_path: pathlib.Path) -> None:
    with ringlet.Bus(data_dir=tmp_path) as bus:
        t = bus.topic("t", durable=True, codec="pickle")
        sub = t.subscribe("latest")
        value = {"a": [1, 2]}
        t.publish(value)
        assert sub.poll(timeout=0).value is value


@pytest.mark.parametrize(
    "bad, why",
    [
        ((1, 2), "tuple"),
        ({1: "a"}, "dict key of type int"),
        ({"x"}, "set"),
        (math.nan, "not a JSON number"),
        (2**64, "beyond 64 bits"),
        (b"raw", "bytes"),
    ],
)
def test_json_takes_exactly_json_values_and_refuses_the_rest_at_publish(
    tmp_path: pathlib.Path, bad: object, why: str
) -> None:
    with ringlet.Bus(data_dir=tmp_path) as bus:
        t = bus.topic("t", durable=True)
        with pytest.raises(TypeError) as e:
            t.publish(bad)
        assert isinstance(e.value, ringlet.TypeMismatch)
        assert why in str(e.value) and 'codec="pickle"' in str(e.value)
        with pytest.raises(ringlet.TypeMismatch):
            t.publish_many([1, 2, bad])
        assert t.end_offsets() == [0]
        nested: list[object] = []
        nested.append(nested)
        with pytest.raises(ringlet.TypeMismatch, match="deeper"):
            t.publish(nested)
        t.publish({"ok": [1, -2, 3.5, "s", True, None, {"deep": []}]})
        assert t.end_offsets() == [1]


def test_pickle_and_bytes_round_trip_across_a_restart(tmp_path: pathlib.Path) -> None:
    run(
        f"""
        import datetime, decimal, ringlet
        with ringlet.Bus(data_dir={str(tmp_path)!r}) as bus:
            p = bus.topic("p", durable=True, codec="pickle")
            p.publish((1, decimal.Decimal("2.50"), datetime.date(2026, 12, 1), {{1: "int key"}}))
            b = bus.topic("b", durable=True, codec="bytes", durability="synced")
            b.publish(b"\\x00\\xffraw")
            try:
                b.publish("text")
            except ringlet.TypeMismatch as e:
                assert "not bytes" in str(e), e
            else:
                raise AssertionError("a str went into a bytes topic")
        """
    )
    import datetime
    import decimal

    with ringlet.Bus(data_dir=tmp_path) as bus:
        assert values(bus.topic("p")) == [
            (1, decimal.Decimal("2.50"), datetime.date(2026, 12, 1), {1: "int key"})
        ]
        assert values(bus.topic("b", codec="bytes")) == [b"\x00\xffraw"]


def test_options_that_contradict_what_is_stored_say_what_is_stored(tmp_path: pathlib.Path) -> None:
    with ringlet.Bus(data_dir=tmp_path) as bus:
        bus.topic("t", durable=True, partitions=2, codec="pickle").publish(1)
    with ringlet.Bus(data_dir=tmp_path) as bus:
        with pytest.raises(ringlet.ConfigError, match="stored with a topic of 2 partitions.*codec pickle"):
            bus.topic("t", codec="json")
        with pytest.raises(ringlet.ConfigError, match="stored with a topic of 2 partitions"):
            bus.topic("t", partitions=3)
        with pytest.raises(ringlet.ConfigError, match='no codec "yaml": use one of json, pickle, bytes'):
            bus.topic("u", durable=True, codec="yaml")
        with pytest.raises(ringlet.ConfigError, match="durability and codec are for durable topics"):
            bus.topic("u", durable=False, codec="json")
        with pytest.raises(ValueError, match="durability"):
            bus.topic("u", durable=True, durability="sometimes")
        assert bus.topic("u", durable=True, durability="buffered").publish(1).offset == 0
        t = bus.topic("t")
        assert values(t) == [1]
        # In this process it is open durable: durable=False contradicts it.
        with pytest.raises(ringlet.ConfigError, match="durability"):
            bus.topic("t", durable=False)
    with pytest.raises(ringlet.ConfigError, match="data directory"):
        ringlet.Bus().topic("t", durable=True)
    with pytest.raises(ringlet.ConfigError, match="data_dir"):
        ringlet.Bus(repair=True)


def test_a_value_that_no_longer_unpickles_names_where_it_is(tmp_path: pathlib.Path) -> None:
    run(
        f"""
        import ringlet
        class Gone:
            pass
        with ringlet.Bus(data_dir={str(tmp_path)!r}) as bus:
            t = bus.topic("t", durable=True, codec="pickle")
            t.publish("fine")
            t.publish(Gone())
        """
    )
    with ringlet.Bus(data_dir=tmp_path) as bus:
        with pytest.raises(ringlet.TypeMismatch, match="partition 0, offset 1"):
            bus.topic("t")


def test_one_bus_per_directory_and_close_lets_it_go(tmp_path: pathlib.Path) -> None:
    bus = ringlet.Bus(data_dir=tmp_path)
    t = bus.topic("t", durable=True)
    t.publish("a")
    with pytest.raises(ringlet.Locked, match="LOCK"):
        ringlet.Bus(data_dir=tmp_path)
    r = run(f"import ringlet; ringlet.Bus(data_dir={str(tmp_path)!r})", check=False)
    assert r.returncode != 0 and "ringlet.Locked" in r.stderr
    sub = t.subscribe("earliest")
    bus.close()
    bus.close()
    with pytest.raises(ringlet.Closed):
        t.publish("b")
    with pytest.raises(ringlet.Closed):
        bus.topic("other")
    assert sub.poll(timeout=0).value == "a"
    with ringlet.Bus(data_dir=tmp_path) as again:
        again.topic("t").publish("c")
        again.sync()
        assert values(again.topic("t")) == ["a", "c"]


def last_segment(tmp_path: pathlib.Path, topic: str) -> pathlib.Path:
    return sorted((tmp_path / topic / "0").glob("*.log"))[-1]


def test_a_torn_tail_is_cut_and_damage_before_it_is_corrupt_unless_repaired(
    tmp_path: pathlib.Path,
) -> None:
    with ringlet.Bus(data_dir=tmp_path) as bus:
        t = bus.topic("t", durable=True)
        for i in range(10):
            t.publish(f"record {i}")
    seg = last_segment(tmp_path, "t")
    whole = seg.read_bytes()
    seg.write_bytes(whole[:-3])
    with ringlet.Bus(data_dir=tmp_path) as bus:
        t = bus.topic("t")
        assert values(t) == [f"record {i}" for i in range(9)]
        # What was cut is reported: on the topic, in its snapshot.
        assert len(t.recovered) == 1 and seg.name in t.recovered[0], t.recovered
        assert t.snapshot()["recovered"] == t.recovered
    # A flipped byte in the first record's value: damage before the tail.
    data = bytearray(seg.read_bytes())
    at = data.index(b"record 0")
    data[at] ^= 0xFF
    seg.write_bytes(bytes(data))
    with ringlet.Bus(data_dir=tmp_path) as bus:
        with pytest.raises(ringlet.Corrupt, match=str(seg.name)):
            bus.topic("t")
    with ringlet.Bus(data_dir=tmp_path, repair=True) as bus:
        assert values(bus.topic("t")) == []
        assert bus.topic("t").publish("after repair").offset == 0


CHILD = """
import sys, ringlet
bus = ringlet.Bus(data_dir=sys.argv[1])
t = bus.topic("counts", durable=True, partitions=2, capacity=1_000_000)
i = int(sys.argv[2])
while True:
    r = t.publish(i, key=str(i % 5))
    print(r.partition, r.offset, i, flush=True)
    i += 1
"""


def test_a_publisher_killed_at_random_moments_loses_no_confirmed_record(
    tmp_path: pathlib.Path,
) -> None:
    kills = int(os.environ.get("RINGLET_PY_CRASH_KILLS", "5"))
    rng = random.Random(kills)
    confirmed: dict[int, tuple[int, int]] = {}
    next_value = 0
    for _ in range(kills):
        with subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path), str(next_value)],
            stdout=subprocess.PIPE,
            text=True,
        ) as child:
            assert child.stdout is not None
            # Kill it once it is publishing, a random moment later.
            first = child.stdout.readline()
            time.sleep(rng.uniform(0.0, 0.05))
            child.send_signal(signal.SIGKILL)
            out = first + child.stdout.read()
        assert child.returncode == -signal.SIGKILL
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3:  # a line cut by the kill is not a confirmation
                p, o, v = map(int, parts)
                confirmed[v] = (p, o)
        with ringlet.Bus(data_dir=tmp_path) as bus:
            # Capacity is retention, not stored: ask for the child's.
            t = bus.topic("counts", capacity=1_000_000)
            stored: dict[int, tuple[int, int]] = {}
            offsets: list[list[int]] = [[], []]
            for r in t.subscribe("earliest").poll_many(1_000_000, timeout=0):
                offsets[r.partition].append(r.offset)
                assert r.value not in stored, f"{r.value} stored twice"
                stored[r.value] = (r.partition, r.offset)
            for o in offsets:
                assert o == list(range(len(o))), "offsets with a gap"
            for v, at in confirmed.items():
                assert stored.get(v) == at, f"confirmed {v} at {at}, stored at {stored.get(v)}"
            next_value = max(stored, default=-1) + 1
    assert len(confirmed) > kills


def test_a_consumer_group_resumes_from_what_it_committed_before_a_restart(
    tmp_path: pathlib.Path,
) -> None:
    run(
        f"""
        import ringlet
        with ringlet.Bus(data_dir={str(tmp_path)!r}) as bus:
            t = bus.topic("jobs", durable=True)
            t.publish_many(range(10))
            m = t.group("workers", start="earliest").join()
            assert [r.value for r in m.poll_many(4, timeout=0)] == [0, 1, 2, 3]
            m.commit()
            m.poll_many(3, timeout=0)   # read, never committed: handed out again
        """
    )
    with ringlet.Bus(data_dir=tmp_path) as bus:
        g = bus.topic("jobs").group("workers")
        assert g.committed() == [4]
        assert [r.value for r in g.join().poll_many(100, timeout=0)] == list(range(4, 10))


ACCOUNT = """
import ringlet

class Account:
    def __init__(self):
        self.balance = 0

    def apply(self, e):
        self.balance += e["amount"] if e["type"] == "deposited" else -e["amount"]

    def handle(self, c):
        if c["type"] == "withdraw" and c["amount"] > self.balance:
            raise ValueError("insufficient funds")
        return [{"type": "deposited" if c["type"] == "deposit" else "withdrew", "amount": c["amount"]}]
"""


def test_an_event_store_rebuilds_its_aggregates_in_a_new_process(tmp_path: pathlib.Path) -> None:
    run(
        ACCOUNT
        + f"""
with ringlet.Bus(data_dir={str(tmp_path)!r}) as bus:
    accounts = bus.event_store("accounts", durable=True, partitions=2).aggregates(Account)
    accounts.execute("alice", {{"type": "deposit", "amount": 100}})
    accounts.execute("alice", {{"type": "withdraw", "amount": 30}})
    accounts.execute("bob", {{"type": "deposit", "amount": 5}})
"""
    )
    r = run(
        ACCOUNT
        + f"""
with ringlet.Bus(data_dir={str(tmp_path)!r}) as bus:
    store = bus.event_store("accounts")
    accounts = store.aggregates(Account)
    alice, version = accounts.load("alice")
    print(store.ids(), alice.balance, version, accounts.load("bob")[0].balance)
    try:
        accounts.execute("alice", {{"type": "withdraw", "amount": 71}})
    except ValueError as e:
        print(e)
    try:
        store.append("alice", [{{"type": "deposited", "amount": 1}}], expected_version=1)
    except ringlet.VersionConflict as e:
        print("stale", e.actual)
"""
    )
    assert r.stdout.split("\n")[:3] == ["['alice', 'bob'] 70 2 5", "insufficient funds", "stale 2"]


def test_queue_messages_come_back_in_a_new_process_acked_ones_never(tmp_path: pathlib.Path) -> None:
    run(
        f"""
        import ringlet
        with ringlet.Bus(data_dir={str(tmp_path)!r}) as bus:
            q = bus.queue("jobs", durable=True, capacity=100, max_deliveries=5)
            for i in range(6):
                q.send({{"job": i}}, key=f"k{{i}}", headers={{"trace": str(i)}})
            q.send({{"job": "later"}}, delay=3600)
            first, second, third = q.receive_many(3, timeout=0)
            first.ack()
            second.nack()          # ready again, one attempt counted
            # third stays in flight: the process ends with it delivered
        """
    )
    with ringlet.Bus(data_dir=tmp_path) as bus:
        q = bus.queue("jobs")  # left out, the options are what is stored: durable, json
        f = q.figures
        assert (f["ready"], f["delayed"], f["in_flight"]) == (5, 1, 0), f
        got = {}
        for d in q.receive_many(10, timeout=0):
            got[d.value["job"]] = d.attempt
            assert d.header("trace") == str(d.value["job"]).encode()
            d.ack()
        # Acked never comes back; the nacked and the in-flight one count their attempt.
        assert got == {1: 2, 2: 2, 3: 1, 4: 1, 5: 1}
        assert q.figures["delayed"] == 1  # still due in an hour


def test_a_poison_message_reaches_the_dead_letter_across_restarts(tmp_path: pathlib.Path) -> None:
    crash = f"""
        import os, ringlet
        bus = ringlet.Bus(data_dir={str(tmp_path)!r})
        bus.queue("jobs.dlq", durable=True)
        q = bus.queue("jobs", durable=True, max_deliveries=2, dead_letter="jobs.dlq")
        if len(q) == 0 and not os.path.exists({str(tmp_path / "sent")!r}):
            q.send("poison")
            open({str(tmp_path / "sent")!r}, "w").close()
        d = q.receive(timeout=0)
        if d is not None:
            print(d.attempt, flush=True)
            os.kill(os.getpid(), 9)  # the consumer dies with it in flight
        print(bus.queue("jobs.dlq").receive(timeout=0).value, flush=True)
    """
    assert run(crash, check=False).stdout == "1\n"
    assert run(crash, check=False).stdout == "2\n"
    assert run(crash).stdout == "poison\n"


def test_queue_options_that_contradict_what_is_stored_say_so(tmp_path: pathlib.Path) -> None:
    with ringlet.Bus(data_dir=tmp_path) as bus:
        bus.topic("orders", durable=True)
        bus.queue("jobs", durable=True, codec="pickle").send(ValueError("kept as a pickle"))
        with pytest.raises(ringlet.TypeMismatch, match="is a topic"):
            bus.queue("orders", durable=True)
        with pytest.raises(ringlet.ConfigError, match="durab"):
            bus.queue("mem", durable=False, codec="json")
    with ringlet.Bus(data_dir=tmp_path) as bus:
        with pytest.raises(ringlet.ConfigError, match="stored with a topic"):
            bus.queue("orders")
        with pytest.raises(ringlet.ConfigError, match="pickle"):
            bus.queue("jobs", codec="json")
        assert isinstance(bus.queue("jobs").receive(timeout=0).value, Exception)
    with ringlet.Bus() as bus, pytest.raises(ringlet.ConfigError, match="data_dir"):
        bus.queue("jobs", durable=True)


WORKER = """
import sys, ringlet
bus = ringlet.Bus(data_dir=sys.argv[1])
q = bus.queue("work", durable=True, capacity=1_000_000, visibility_timeout=0.05)
i = int(sys.argv[2])
held = []
while True:
    q.send(i)
    print("s", i, flush=True)
    i += 1
    for d in q.receive_many(2, timeout=0):
        print("d", d.value, d.attempt, flush=True)
        if d.value % 4 == 0:
            held.append(d)          # left in flight a while
        elif d.value % 4 == 1 and d.attempt < 3:
            d.nack()
        else:
            print("t", d.value, flush=True)
            d.ack()
            print("a", d.value, flush=True)
    if len(held) > 6:
        for d in held:
            print("t", d.value, flush=True)
            d.ack()
            print("a", d.value, flush=True)
        held.clear()
"""


def test_a_worker_killed_at_random_moments_loses_no_message_and_acked_ones_stay_acked(
    tmp_path: pathlib.Path,
) -> None:
    kills = int(os.environ.get("RINGLET_PY_CRASH_KILLS", "5"))
    rng = random.Random(kills + 1)
    sent: set[int] = set()
    acked: set[int] = set()
    tried: set[int] = set()
    delivered: dict[int, int] = {}
    next_value = 0
    for _ in range(kills):
        with subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tmp_path), str(next_value)],
            stdout=subprocess.PIPE,
            text=True,
        ) as child:
            assert child.stdout is not None
            first = child.stdout.readline()
            time.sleep(rng.uniform(0.0, 0.05))
            child.send_signal(signal.SIGKILL)
            out = first + child.stdout.read()
        for line in out.splitlines():
            f = line.split()
            if f[:1] == ["s"] and len(f) == 2:
                sent.add(int(f[1]))
            elif f[:1] == ["a"] and len(f) == 2:
                acked.add(int(f[1]))
            elif f[:1] == ["t"] and len(f) == 2:
                tried.add(int(f[1]))
            elif f[:1] == ["d"] and len(f) == 3:
                v, a = int(f[1]), int(f[2])
                delivered[v] = max(delivered.get(v, 0), a)
        with ringlet.Bus(data_dir=tmp_path) as bus:
            q = bus.queue("work", capacity=1_000_000, visibility_timeout=0.05)
            snap = q.snapshot()
            # Every message is in the queue once, at most: held ones are ready again.
            back: dict[int, int] = {}
            for d in q.receive_many(1_000_000, timeout=0):
                assert d.value not in back, f"{d.value} came back twice"
                back[d.value] = d.attempt
                d.nack()
            assert not acked & back.keys(), f"acked came back: {sorted(acked & back.keys())}"
            missing = sent - acked - tried - back.keys()
            assert not missing, f"sent, never acked, lost: {sorted(missing)} ({snap})"
            for v, a in back.items():
                # A confirmed delivery counts as an attempt after the restart.
                assert a >= delivered.get(v, 0) + 1, f"{v}: delivered {delivered[v]}, back as {a}"
            next_value = max(back.keys() | sent | {-1}) + 1
    assert len(sent) > kills and acked


def test_compacted_buffered_topics_and_share_groups_come_back(tmp_path: pathlib.Path) -> None:
    run(
        f"""
        import ringlet
        with ringlet.Bus(data_dir={str(tmp_path)!r}) as bus:
            users = bus.topic("users", durable=True, compacted=True)
            users.publish({{"name": "Ada"}}, key="u1")
            users.publish({{"name": "Bob"}}, key="u2")
            users.publish({{"name": "Ada L."}}, key="u1")
            users.publish(None, key="u2")                  # a tombstone
            ticks = bus.topic("ticks", durable=True, durability="buffered")
            ticks.publish_many(range(100))
            bus.sync()                                     # what came before is on disk
            jobs = bus.topic("jobs", durable=True)
            jobs.publish_many(range(5))
            workers = jobs.share_group("workers", start="earliest").join()
            for d in workers.receive_many(3, timeout=0):
                if d.offset < 2:
                    d.ack()
            # the third one stays in flight: the process ends with it
        """
    )
    with ringlet.Bus(data_dir=tmp_path) as bus:
        users = bus.topic("users")  # stored as compacted: left out, it still is
        latest = [(r.key, r.value) for r in users.subscribe("earliest").poll_many(10, timeout=0)]
        assert latest == [("u1", {"name": "Ada L."}), ("u2", None)]
        assert values(bus.topic("ticks")) == list(range(100))
        workers = bus.topic("jobs").share_group("workers", start="earliest").join()
        offsets = sorted(d.offset for d in workers.receive_many(10, timeout=0))
        assert offsets == [2, 3, 4]   # what was settled is not delivered again


TOTALS = """
import sys, ringlet
bus = ringlet.Bus(data_dir=sys.argv[1])
orders = bus.topic("orders", durable=True)
topo = bus.topology("totals", durable=True)
grouped = topo.stream(orders).group_by_key()
spent = grouped.aggregate(0, lambda total, r: total + r.value["cents"])
counts = topo.stream(orders).group_by_key(store="counts").count()
for cents in map(int, sys.argv[2:]):
    orders.publish({"cents": cents}, key="ada")
topo.run_until_idle()
print(spent["ada"], counts["ada"])
bus.close()
"""


def test_a_durable_topology_restores_its_tables_and_counts_each_record_once(
    tmp_path: pathlib.Path,
) -> None:
    def totals(*cents: int) -> str:
        r = subprocess.run(
            [sys.executable, "-c", TOTALS, str(tmp_path), *map(str, cents)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    assert totals(100, 250) == "350 2"
    # A new process: the tables come back, and the old orders are not counted again.
    assert totals(5) == "355 3"
    assert totals() == "355 3"
    with ringlet.Bus(data_dir=tmp_path) as bus, pytest.raises(ringlet.ConfigError, match="durable"):
        bus.topology("other", codec="json")

"""A seeded fuzzer of the Python API: every public method of every object it
can reach, called with hostile arguments.

    python hostile.py SEED CALLS

Allowed outcomes are a return, the contract's typed errors (`RingletError`),
`TypeError`, `ValueError`, `OverflowError` (an int out of a parameter's range,
as Python's own functions raise), and the exception a callback of the fuzzer
raised (`UserError`). Anything else — another exception, a panic message, a
crash, a call that does not return within the watchdog's time — fails, and the
report names the seed and the call, so `python hostile.py SEED CALLS` replays it.
"""

from __future__ import annotations

import asyncio
import datetime
import faulthandler
import gc
import inspect
import math
import os
import random
import re
import reprlib
import sys

import ringlet

WATCHDOG_S = 20
# Where each call is written before it is made (`RINGLET_FUZZ_LAST`): what a
# crash or the watchdog interrupted.
LAST = open(os.environ["RINGLET_FUZZ_LAST"], "w") if os.environ.get("RINGLET_FUZZ_LAST") else None


class UserError(Exception):
    """What the fuzzer's callbacks raise."""


class Evil:
    """An object whose every protocol raises."""

    def _raise(self, *a, **k):
        raise UserError("evil")

    __eq__ = __hash__ = __len__ = __iter__ = __index__ = __int__ = __float__ = _raise
    __str__ = __bool__ = __getitem__ = __lt__ = __contains__ = _raise

    def __repr__(self):
        return "Evil()"


class EvilKey(str):
    """A str whose hash and equality raise once armed (a dict key that breaks
    lookups after the dict was built)."""

    armed = False

    def __hash__(self):
        if EvilKey.armed:
            raise UserError("evil hash")
        return str.__hash__(self)

    def __eq__(self, other):
        if EvilKey.armed:
            raise UserError("evil eq")
        return str.__eq__(self, other)


def raising_gen():
    yield 1
    raise UserError("generator")


def nested(depth):
    v = []
    for _ in range(depth):
        v = [v]
    return v


def callbacks(pool):
    """Callbacks of every kind: raising, returning nonsense, calling back in."""

    def reenter(*a):
        o = random.choice(pool)
        for name in ("snapshot", "names", "end_offsets", "figures", "committed"):
            m = getattr(o, name, None)
            if callable(m):
                try:
                    m()
                except ringlet.RingletError:
                    pass
        return a[0] if a else None

    def raise_(*a):
        raise UserError("callback")

    return [raise_, reenter, lambda *a: None, lambda *a: Evil(), lambda *a: nested(50), lambda *a: (1, 2, 3), lambda *a: True]


def hostile_values(pool):
    values = [
        None, True, False, 0, 1, -1, 7, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**100,
        0.0, -0.0, 0.5, -1.5, 1e300, math.nan, math.inf, -math.inf,
        "", "a", "orders", "x" * 10_000, "naïve/\x00", "\u2028", "\ud800", "-", ".",
        "earliest", "latest", "block", "overwrite", "keep", "json", "pickle", "bytes",
        b"", b"\x00\xff", bytearray(b"ab"), memoryview(b"m"), bytes(4096),
        [], [1, 2], [None], [Evil()], list(range(300)), (), (1, "a"), {}, {"a": 1}, {"a": object()}, {EvilKey("k"): 1},
        {1: 2}, {"name": Evil()}, set(), frozenset([1]), object(), Evil(), EvilKey("k"), nested(3), nested(10_000),
        raising_gen(), iter([1, 2, 3]), datetime.timedelta(seconds=-1), datetime.timedelta(days=10**8),
        datetime.timedelta(milliseconds=1), datetime.datetime(2020, 1, 1), ringlet, ringlet.Bus, type,
    ]
    values += callbacks(pool)
    EvilKey.armed = True
    return values


def hostile(rng, pool, values):
    if rng.random() < 0.3 and pool:
        o = rng.choice(pool)
        # Readers are blocking iterators (as a socket's lines): a call that
        # iterates one waits for records, as documented, so none is passed.
        if not hasattr(o, "__next__"):
            return o
    return rng.choice(values)


OUTCOMES: dict[str, int] = {}
FAILING: list = []
ENDINGS = {"close", "delete", "leave", "stop", "ack", "nack", "reject"}
SHOW = reprlib.Repr()
SHOW.maxlevel, SHOW.maxstring, SHOW.maxother = 4, 40, 60

def show(v):
    try:
        return SHOW.repr(v)
    except Exception:  # noqa: BLE001 — Evil objects refuse to be shown
        return "<unprintable>"


ALLOWED = (ringlet.RingletError, TypeError, ValueError, OverflowError, UserError)
SIGNATURE = re.compile(r"\((.*)\)")


def params(fn):
    sig = getattr(fn, "__text_signature__", None)
    if not sig:
        try:
            sig = str(inspect.signature(fn))
        except (TypeError, ValueError):
            return [], []
    m = SIGNATURE.search(sig)
    positional, keyword = [], []
    kw_only = False
    for p in (m.group(1).split(",") if m else []):
        p = p.strip()
        if not p or p in ("$self", "self", "/"):
            continue
        if p == "*":
            kw_only = True
            continue
        if p.startswith("*"):
            continue
        name = p.split("=")[0].strip()
        (keyword if kw_only or "=" in p else positional).append(name)
    return positional, keyword


def seed_pool(rng):
    """A bus with one of everything, some of it holding records."""
    bus = ringlet.Bus()
    t = bus.topic("orders", partitions=3)
    bus.queue("dead")
    q = bus.queue("jobs", capacity=64, dead_letter="dead")
    for i in range(20):
        t.publish({"id": i}, key=f"k{i % 4}")
        q.send(i)
    sub = t.subscribe(start="earliest")
    g = t.group("g", start="earliest")
    m = g.join()
    sg = t.share_group("s", start="earliest")
    sm = sg.join()
    d = q.receive(timeout=0)
    r = sub.poll(timeout=0)
    top = bus.topology("fuzz")
    s = top.stream(t)
    es = bus.event_store("accounts")
    es.append("a1", [{"deposited": 5}])
    clock = ringlet.ManualClock()
    mbus = ringlet.Bus(clock=clock)
    return [bus, t, q, sub, g, m, sg, sm, d, r, top, s, es, clock, mbus, mbus.topic("t"), mbus.queue("q"),
            bus.faults(), mbus.faults()]


def call(rng, pool, values):
    obj = rng.choice(pool)
    names = [n for n in dir(obj) if not n.startswith("_")]
    if not names:
        return None
    name = rng.choice(names)
    # Ending things is rarer, so most calls meet live objects.
    if name in ENDINGS and rng.random() < 0.8:
        return None
    try:
        attr = getattr(obj, name)
    except ALLOWED:
        return None
    if not callable(attr) or inspect.isclass(attr):
        return None
    positional, keyword = params(attr)
    # A blocking call waits a moment at most; a thread of the fuzzer's own is
    # never started.
    if name in ("spawn", "for_each") and isinstance(obj, (ringlet.Topology,)):
        return None
    args = [hostile(rng, pool, values) for _ in positional if rng.random() < 0.9]
    if rng.random() < 0.1:
        args.append(hostile(rng, pool, values))
    kwargs = {k: hostile(rng, pool, values) for k in keyword if rng.random() < 0.3}
    if "timeout" in keyword:
        kwargs["timeout"] = rng.choice([0, 0.001, 0.01, -1, math.nan])
    desc = f"{type(obj).__name__}.{name}(*{show(args)}, **{show(kwargs)})"
    if LAST is not None:
        LAST.seek(0)
        LAST.write(desc)
        LAST.truncate()
        LAST.flush()
    try:
        out = attr(*args, **kwargs)
    except ALLOWED as e:
        OUTCOMES[type(e).__name__] = OUTCOMES.get(type(e).__name__, 0) + 1
        if len(FAILING) < 500 and not isinstance(e, UserError):
            FAILING.append((attr, args, kwargs, desc))
        return None
    except BaseException as e:  # noqa: BLE001 — the fuzzer's point
        raise AssertionError(f"{desc} raised {type(e).__module__}.{type(e).__name__}: {e}") from e
    OUTCOMES["returned"] = OUTCOMES.get("returned", 0) + 1
    if inspect.isawaitable(out):
        try:
            asyncio.run(asyncio.wait_for(_await(out), 0.01))
        except (asyncio.TimeoutError, *ALLOWED):
            pass
        except BaseException as e:  # noqa: BLE001
            raise AssertionError(f"awaiting {desc} raised {type(e).__name__}: {e}") from e
        return None
    # Ringlet's objects join the pool; builtin values (and the catalog, a list
    # with an HTML view) keep the builtins' own errors.
    if type(out).__module__.startswith("ringlet") and not isinstance(out, (str, int, float, list)):
        return out
    return None


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def replay(n: int) -> None:
    for i in range(n):
        attr, args, kwargs, desc = FAILING[i % len(FAILING)]
        if LAST is not None and i % 1000 == 0:
            LAST.seek(0)
            LAST.write(f"again: {desc}")
            LAST.truncate()
            LAST.flush()
        try:
            out = attr(*args, **kwargs)
        except ALLOWED:
            continue
        except BaseException as e:  # noqa: BLE001
            print(f"again: {desc} raised {type(e).__name__}: {e}", file=sys.stderr)
            sys.exit(1)
        if inspect.isawaitable(out) and hasattr(out, "close"):
            out.close()
    gc.collect()


async def _await(aw):
    return await aw


def main(seed: int, calls: int) -> None:
    rng = random.Random(seed)
    random.seed(seed)
    pool = seed_pool(rng)
    values = hostile_values(pool)
    for i in range(calls):
        faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
        try:
            out = call(rng, pool, values)
        except AssertionError as e:
            print(f"seed {seed}, call {i}: {e}", file=sys.stderr)
            sys.exit(1)
        if out is not None:
            pool.append(out)
            if len(pool) > 200:
                pool.pop(rng.randrange(17, len(pool)))
        if i % 1000 == 999:
            gc.collect()
            pool += seed_pool(rng)
    # Slow leaks: failing calls again and again must not grow the process.
    faulthandler.dump_traceback_later(10 * WATCHDOG_S, exit=True)
    replay(20_000)
    before = rss()
    replay(100_000)
    after = rss()
    faulthandler.cancel_dump_traceback_later()
    if after - before > 64 << 20:
        print(f"seed {seed}: RSS grew {(after - before) >> 20} MB over 100,000 failing calls", file=sys.stderr)
        sys.exit(1)
    # Still working after everything above.
    bus = ringlet.Bus()
    t = bus.topic("after")
    t.publish(1)
    assert t.subscribe(start="earliest").poll(timeout=1).value == 1
    seen = ", ".join(f"{k} {v}" for k, v in sorted(OUTCOMES.items(), key=lambda kv: -kv[1]))
    print(f"seed {seed}: {calls} calls ({seen}); pool {len(pool)}; {len(FAILING)} failing calls 100,000 times again: RSS {before >> 20} -> {after >> 20} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))

import { test } from "node:test";
import assert from "node:assert/strict";
import { ringlet, throwsNamed, manual } from "./ringlet.mjs";

const values = (t) => t.subscribe({ start: "earliest" }).pollMany(10000).map((r) => r.value);

test("stateless operators, branch, merge, peek and to", () => {
  const bus = manual();
  const clicks = bus.topic("clicks", { partitions: 2 });
  const seen = [];
  const s = clicks.stream();
  const [evens, odds] = s.branch((r) => r.value % 2 === 0, () => true);
  evens
    .map((r) => `even ${r.value}`)
    .merge(odds.map((r) => `odd ${r.value}`))
    .peek((r) => seen.push(r.value))
    .to("words");
  s.flatMap((r) => [r.value, r.value])
    .keyBy((r) => "k" + r.value)
    .filter((r) => r.value > 3)
    .to(bus.topic("big"));
  for (let v = 0; v < 6; v++) clicks.publish(v, { key: `u${v % 2}` });
  assert.equal(bus.runUntilIdle(), 6);
  assert.deepEqual(values(bus.getTopic("words")).sort(), [...seen].sort());
  assert.deepEqual([...seen].sort(), ["even 0", "even 2", "even 4", "odd 1", "odd 3", "odd 5"]);
  const big = bus.getTopic("big").subscribe({ start: "earliest" }).pollMany(100);
  assert.deepEqual(big.map((r) => [r.key, r.value]).sort(), [["k4", 4], ["k4", 4], ["k5", 5], ["k5", 5]]);
  assert.equal(bus.runUntilIdle(), 0);
  // The values are the very values, not copies.
  const obj = { n: 1 };
  let got;
  bus.topic("objs").stream().forEach((r) => { got = r.value; });
  bus.getTopic("objs").publish(obj);
  bus.step();
  assert.equal(got, obj);
});

test("aggregations make queryable tables; stream-table joins", () => {
  const bus = manual();
  const orders = bus.topic("orders");
  const customers = bus.topic("customers");
  const counts = orders.stream().groupByKey().count();
  const totals = orders.stream().groupByKey({ store: "totals" }).aggregate(0, (acc, r) => acc + r.value.amount);
  const names = customers.stream().groupByKey({ store: "names" }).reduce((_old, nu) => nu);
  const joined = [];
  orders.stream().join(names, (r, name) => `${name}:${r.value.amount}`).forEach((r) => joined.push(r.value));
  const left = [];
  orders.stream().leftJoin(names, (_r, name) => `${name}`).forEach((r) => left.push(r.value));
  customers.publish("Ada", { key: "c1" });
  bus.runUntilIdle();
  for (const [c, a] of [["c1", 5], ["c2", 7], ["c1", 3]]) orders.publish({ amount: a }, { key: c });
  orders.publish({ amount: 100 }); // no key: not aggregated
  bus.runUntilIdle();
  assert.equal(counts.get("c1"), 2);
  assert.equal(counts.get("c2"), 1);
  assert.equal(counts.get("zz"), undefined);
  assert.ok(counts.has("c1") && !counts.has("zz"));
  assert.equal(counts.size, 2);
  assert.deepEqual(counts.entries(), [["c1", 2], ["c2", 1]]);
  assert.deepEqual(Object.fromEntries(totals.entries()), { c1: 8, c2: 7 });
  assert.deepEqual(joined, ["Ada:5", "Ada:3"]);
  assert.deepEqual([...left].sort(), ["Ada", "Ada", "undefined", "undefined"]);
  assert.equal(counts.changelog, "streams-KSTREAM-AGGREGATE-STATE-STORE-0000000001-changelog");
  assert.equal(totals.name, "totals");
  // The changelog holds the engine's own records (counts as integers): it is
  // listed, but read through the table.
  assert.ok(bus.names().includes(counts.changelog));
  throwsNamed(assert, () => bus.getTopic(counts.changelog), "TypeMismatch");
  const updates = [];
  counts.toStream().forEach((r) => updates.push(r.value));
  orders.publish({ amount: 1 }, { key: "c2" });
  bus.runUntilIdle();
  assert.deepEqual(updates, [2]);
  // Byte keys are kept apart from text keys.
  orders.publish({ amount: 1 }, { key: new Uint8Array([0xff]) });
  bus.runUntilIdle();
  assert.equal(counts.get(new Uint8Array([0xff])), 1);
});

function modelTumbling(records, size, grace) {
  let st = -Infinity;
  const out = new Map();
  let dropped = 0;
  for (const [k, ts] of records) {
    st = Math.max(st, ts);
    const start = ts - (ts % size);
    if (start + size + grace > st) out.set(`${k}@${start}`, (out.get(`${k}@${start}`) ?? 0) + 1);
    else dropped++;
  }
  return { out, dropped };
}

test("tumbling windows with grace match a model (late records within and beyond grace)", () => {
  let seed = 7; // mulberry32
  const rnd = (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) % n;
  };
  const bus = manual();
  const t = bus.topic("clicks", { capacity: 4096 });
  const table = t.stream().groupByKey().window({ tumblingMs: 10000, graceMs: 3000 }).count();
  let now = 0;
  const records = [];
  for (let i = 0; i < 300; i++) {
    now += rnd(4) * 1000;
    const late = rnd(4) === 0 ? rnd(16) * 1000 : 0;
    records.push([`k${rnd(3)}`, Math.max(0, now - late)]);
  }
  for (const [k, ts] of records) t.publish(1, { key: k, timestamp: ts });
  bus.runUntilIdle();
  const { out, dropped } = modelTumbling(records, 10000, 3000);
  const got = new Map(table.entries().map((e) => [`${e.key}@${e.start}`, e.value]));
  assert.deepEqual(got, out);
  assert.ok(dropped > 0);
  assert.equal(table.droppedLate, dropped);
  assert.equal(table.streamTime, Math.max(...records.map(([, ts]) => ts)));
  assert.equal(table.get("k0", 0), out.get("k0@0"));
  assert.equal(table.size, out.size);
  // Boundaries: [start, end) — a record at 10000 opens the next window.
  const b = manual();
  const bt = b.topic("b");
  const w = bt.stream().groupByKey().window({ tumblingMs: 10000, graceMs: 1000 }).count();
  for (const ts of [0, 9999, 10000, 20500, 9000, 31000, 19999]) bt.publish(1, { key: "k", timestamp: ts });
  b.runUntilIdle();
  // 9000 arrives at stream time 20500 (window [0,10000) closed at 11000): dropped;
  // 19999 arrives at stream time 31000 (closed at 21000): dropped.
  assert.deepEqual(w.fetch("k"), [
    { start: 0, end: 10000, value: 2 },
    { start: 10000, end: 20000, value: 1 },
    { start: 20000, end: 30000, value: 1 },
    { start: 30000, end: 40000, value: 1 },
  ]);
  assert.equal(w.droppedLate, 2);
});

test("session and hopping windows", () => {
  const bus = manual();
  const t = bus.topic("t");
  const sessions = t.stream().groupByKey().window({ sessionGapMs: 2000 })
    .aggregate(() => [], (acc, r) => [...acc, r.value], (a, b) => [...a, ...b]);
  const hops = t.stream().groupByKey({ store: "hops" }).window({ hoppingMs: 10000, advanceMs: 5000 }).count();
  for (const [v, ts] of [["a", 0], ["b", 3000], ["c", 1500], ["d", 9000]]) t.publish(v, { key: "u", timestamp: ts });
  bus.runUntilIdle();
  assert.deepEqual(
    sessions.fetch("u").map((w) => [w.start, w.end, [...w.value].sort()]),
    [[0, 3000, ["a", "b", "c"]], [9000, 9000, ["d"]]],
  );
  assert.deepEqual(hops.fetch("u"), [
    { start: -5000, end: 5000, value: 3 },
    { start: 0, end: 10000, value: 4 },
    { start: 5000, end: 15000, value: 1 },
  ]);
  const ups = [];
  hops.toStream().forEach((r) => ups.push(r.value));
  t.publish("e", { key: "u", timestamp: 9500 });
  bus.runUntilIdle();
  assert.deepEqual(ups, [{ start: 0, end: 10000, value: 5 }, { start: 5000, end: 15000, value: 2 }]);
  throwsNamed(assert, () => t.stream().groupByKey({ store: "x" }).window({ sessionGapMs: 1 }).aggregate(0, (a) => a), "ConfigError");
  throwsNamed(assert, () => t.stream().groupByKey().window({ tumblingMs: 1, sessionGapMs: 1 }), "TypeError");
  throwsNamed(assert, () => t.stream().groupByKey().window({ hoppingMs: 10 }), "TypeError");
  throwsNamed(assert, () => t.stream().groupByKey().window({ tumblingMs: -1 }), "RangeError");
  throwsNamed(assert, () => t.stream().groupByKey().window({ tumbling: 5 }), "TypeError");
});

test("a throwing function surfaces as StreamError with its record and is read again", () => {
  const bus = manual();
  const t = bus.topic("in");
  let broken = true;
  const boom = new SyntaxError("cannot parse");
  const lengths = t.stream()
    .map((r) => { if (r.value === "bad" && broken) throw boom; return r.value.length; })
    .named("parse")
    .groupByKey()
    .count();
  for (const v of ["ok", "bad", "fine"]) t.publish(v, { key: "k" });
  let e;
  try { bus.runUntilIdle(); } catch (x) { e = x; }
  assert.ok(e instanceof Error && !(e instanceof WebAssembly.RuntimeError));
  assert.equal(e.name, "StreamError");
  assert.deepEqual([e.node, e.topic, e.partition, e.offset, e.key, e.topology], ["parse", "in", 0, 1, "k", "streams"]);
  assert.equal(e.cause, boom);
  assert.equal(e.record.value, "bad");
  assert.match(e.message, /cannot parse/);
  assert.equal(lengths.get("k"), 1); // "ok" only; "bad" applied nothing, "fine" waits
  throwsNamed(assert, () => bus.runUntilIdle(), "StreamError"); // not skipped
  broken = false;
  assert.equal(bus.runUntilIdle(), 2);
  assert.equal(lengths.get("k"), 3);
  // Throwing non-Errors is carried as is.
  const t2 = bus.topic("in2");
  t2.stream().forEach(() => { throw 42; });
  t2.publish("x");
  assert.throws(() => bus.runUntilIdle(), (x) => x.name === "StreamError" && x.cause === 42 && /42/.test(x.message));
});

test("skip keeps errors and goes on; wrong callback results are TypeErrors with the record", () => {
  const bus = manual();
  const t = bus.topic("in");
  const topo = bus.topology("app");
  const out = [];
  topo.stream(t).map((r) => { if (r.value === 0) throw new RangeError("zero"); return 10 / r.value; })
    .forEach((r) => out.push(r.value));
  topo.stream(t).keyBy((r) => (r.value === 2 ? 3.5 : "k")).forEach(() => {});
  topo.stream(t).flatMap((r) => (r.value === 1 ? 7 : [])).forEach(() => {});
  topo.onError("skip");
  for (const v of [1, 0, 2]) t.publish(v);
  assert.equal(topo.runUntilIdle(), 3);
  assert.deepEqual(out, [10, 5]);
  const errs = topo.errors;
  assert.equal(errs.length, 3);
  assert.ok(errs.every((e) => e.name === "StreamError"));
  assert.deepEqual(errs.map((e) => [e.offset, e.cause.name]).sort(), [[0, "TypeError"], [1, "RangeError"], [2, "TypeError"]]);
  assert.equal(errs.find((e) => e.cause.name === "RangeError").record.value, 0);
  throwsNamed(assert, () => topo.onError("ignore"), "TypeError");
});

test("a topology rebuilt resumes from committed offsets with its tables restored", () => {
  const bus = manual();
  const t = bus.topic("events", { partitions: 3, capacity: 10000 });
  const want = {};
  for (let i = 0; i < 300; i++) {
    const k = `k${i % 7}`;
    want[k] = (want[k] ?? 0) + 1;
    t.publish(i, { key: k });
  }
  const topo = bus.topology("app");
  topo.stream(t).groupByKey({ store: "c" }).count();
  topo.step();
  topo.close();
  assert.ok(topo.isClosed);
  for (let i = 0; i < 100; i++) { want.k1 += 1; t.publish(i, { key: "k1" }); }
  const topo2 = bus.topology("app");
  const counts2 = topo2.stream(t).groupByKey({ store: "c" }).count();
  assert.ok(counts2.size > 0); // restored from the changelog before reading on
  topo2.runUntilIdle();
  assert.deepEqual(Object.fromEntries(counts2.entries()), want);
});

test("callbacks may call back into the bus and their topology", () => {
  const bus = manual();
  const t = bus.topic("in");
  const topo = bus.topology();
  const src = t.stream();
  const counts = src.groupByKey().count();
  let late = 0;
  const seen = [];
  src.forEach((r) => {
    seen.push(r.value);
    assert.equal(bus.runUntilIdle(), 0); // stepping from inside does nothing
    counts.get("k");
    throwsNamed(assert, () => topo.stream(t), "ConfigError");
    if (r.value === 1) src.forEach(() => { late++; }); // joins before the next record
    if (r.value === 3) topo.close();
  });
  for (let v = 1; v <= 5; v++) t.publish(v, { key: "k" });
  assert.equal(bus.runUntilIdle(), 3);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(late, 2);
  assert.equal(counts.get("k"), 3);
});

test("describe gives Kafka's text, Mermaid, SVG and data", () => {
  const bus = manual();
  const t = bus.topic("clicks");
  t.stream().filter(() => true).to("out");
  const d = bus.topology().describe();
  assert.ok(d.toString().startsWith("Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [clicks])"));
  assert.ok(`${d}`.includes("Sink"));
  assert.ok(d.svg.startsWith("<svg"));
  assert.ok(d.mermaid.startsWith("flowchart LR"));
  assert.deepEqual(d.toJSON().nodes.map((n) => n.op), ["source", "filter", "to"]);
  assert.equal(JSON.parse(JSON.stringify(d)).topology, "streams");
});

test("bad arguments are typed errors, never traps", () => {
  const bus = manual();
  const s = bus.topic("t").stream();
  throwsNamed(assert, () => s.map(42), "TypeError");
  throwsNamed(assert, () => s.filter(), "TypeError");
  throwsNamed(assert, () => s.to(3.5), "TypeError");
  throwsNamed(assert, () => s.to("bad name!"), "InvalidName");
  throwsNamed(assert, () => s.branch(() => true, "no"), "TypeError");
  throwsNamed(assert, () => s.groupByKey({ stor: "x" }), "TypeError");
  throwsNamed(assert, () => s.groupByKey({ capacity: -1 }), "RangeError");
  throwsNamed(assert, () => s.groupByKey().window(), "TypeError");
  throwsNamed(assert, () => s.named(7), "TypeError");
  throwsNamed(assert, () => { s.groupByKey({ store: "x" }).count(); s.groupByKey({ store: "x" }).count(); }, "ConfigError");
  throwsNamed(assert, () => bus.topology("bad name"), "InvalidName");
  throwsNamed(assert, () => bus.topology(5), "TypeError");
  const table = s.groupByKey().count();
  throwsNamed(assert, () => table.get(5), "TypeError");
  throwsNamed(assert, () => s.join({}, () => 1), "TypeError");
});

test("compacted topics keep the latest value per key; null is a tombstone", () => {
  const bus = manual();
  const users = bus.topic("users", { compacted: true });
  users.publish("Ada", { key: "u1" });
  users.publish("Bob", { key: "u2" });
  users.publish("Ada L.", { key: "u1" });
  users.publish(null, { key: "u2" }); // a tombstone
  const recs = users.subscribe({ start: "earliest" }).pollMany(10);
  assert.deepEqual(recs.map((r) => [r.offset, r.key, r.value]), [[2, "u1", "Ada L."], [3, "u2", null]]);
  assert.equal(users.length, 2);
  throwsNamed(assert, () => users.publish("no key"), "TypeError");
  assert.equal(users.config().compacted, true);
  throwsNamed(assert, () => bus.topic("users", { compacted: "yes" }), "TypeError");
  throwsNamed(assert, () => bus.topic("c2", { compacted: true, onFull: "block" }), "ConfigError");
  // A table of the latest name per user, from a compacted topic.
  const names = users.stream().groupByKey({ store: "names" }).reduce((_a, b) => b);
  bus.runUntilIdle();
  assert.equal(names.get("u1"), "Ada L.");
});

test("event store: optimistic concurrency, aggregates, and a CQRS projection", () => {
  const bus = manual();
  const store = bus.eventStore("accounts", { partitions: 2, capacity: 1000 });
  assert.equal(store.append("a1", [{ type: "opened" }], 0), 1);
  let e;
  try { store.append("a1", [{ type: "x" }], 0); } catch (x) { e = x; }
  assert.equal(e.name, "VersionConflict");
  assert.deepEqual([e.id, e.expected, e.actual], ["a1", 0, 1]);
  assert.deepEqual(store.load("a1"), [{ type: "opened" }]);
  assert.equal(store.version("a1"), 1);
  assert.deepEqual(store.ids(), ["a1"]);
  assert.equal(store.append("a1", [{ type: "noted" }]), 2); // no expected version: appends

  class Account {
    constructor() { this.balance = 0; }
    apply(ev) { if (ev.type === "deposited") this.balance += ev.amount; }
    handle(c) {
      if (c.amount <= 0) throw new RangeError("amount must be positive");
      return [{ type: "deposited", amount: c.amount }];
    }
  }
  const accounts = store.aggregates(() => new Account());
  assert.deepEqual(accounts.execute("a1", { amount: 5 }), { events: [{ type: "deposited", amount: 5 }], version: 3 });
  assert.throws(() => accounts.execute("a1", { amount: 0 }), (x) => x instanceof RangeError && /positive/.test(x.message));
  const { state, version } = accounts.load("a1");
  assert.ok(state instanceof Account);
  assert.deepEqual([state.balance, version], [5, 3]);
  // CQRS: a projection of balances, queried while commands go through aggregates.
  const balances = store.topic.stream().groupByKey({ store: "balances" }).aggregate(0, (b, r) => b + (r.value.amount ?? 0));
  bus.runUntilIdle();
  assert.equal(balances.get("a1"), 5);
  accounts.execute("a1", { amount: 2 });
  bus.runUntilIdle();
  assert.equal(balances.get("a1"), 7);
  // A full store refuses (keep), it never overwrites history.
  const tiny = bus.eventStore("tiny", { capacity: 1 });
  tiny.append("x", [1]);
  throwsNamed(assert, () => tiny.append("x", [2]), "Full");
  assert.deepEqual(tiny.load("x"), [1]);
  // Broken aggregates are errors, not traps.
  const noHandle = store.aggregates(() => ({ apply() {} }));
  throwsNamed(assert, () => noHandle.execute("a1", {}), "TypeError");
  const badApply = store.aggregates(() => ({ apply() { throw new Error("corrupt"); }, handle: () => [] }));
  assert.throws(() => badApply.load("a1"), /corrupt/);
  assert.throws(() => badApply.execute("a1", {}), /corrupt/); // loading before handling fails the same way
  const badFactory = store.aggregates(() => { throw new Error("no"); });
  assert.throws(() => badFactory.execute("a1", {}), /no/);
  throwsNamed(assert, () => store.append("a1", 5), "TypeError");
  throwsNamed(assert, () => store.append("a1", [], -1), "RangeError");
  throwsNamed(assert, () => store.aggregates(5), "TypeError");
});

test("windows of zero size or too many per record are ConfigErrors, not allocations", () => {
  const bus = manual();
  const t = bus.topic("w");
  for (const w of [{ hoppingMs: 1e9, advanceMs: 1 }, { tumblingMs: 0 }, { sessionGapMs: 0 }]) {
    throwsNamed(assert, () => t.stream().groupByKey().window(w).count(), "ConfigError");
  }
});

test("a stream written back to its own topic is a ConfigError", () => {
  const bus = manual();
  const t = bus.topic("loop");
  throwsNamed(assert, () => t.stream().map((r) => r.value).to(t), "ConfigError");
  throwsNamed(assert, () => t.stream().to("loop"), "ConfigError");
  t.publish(1);
  assert.equal(bus.runUntilIdle(), 1);
});

test("a stream script on the system clock exits by itself (no busy timer)", async () => {
  const { spawn } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const pkg = fileURLToPath(new URL("../../pkg/node/ringlet_wasm.js", import.meta.url));
  const script = `
    const { Bus } = require(${JSON.stringify(pkg)});
    const bus = new Bus();
    const clicks = bus.topic("clicks");
    const views = clicks.stream().groupByKey().count();
    clicks.publish("/", { key: "ada" });
    bus.runUntilIdle();
    if (views.get("ada") !== 1) process.exit(2);
  `;
  const started = Date.now();
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, ["-e", script], { stdio: "inherit" });
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.on("exit", (c, signal) => {
      clearTimeout(kill);
      resolve(signal ?? c);
    });
  });
  assert.equal(code, 0, "the script exited on its own");
  assert.ok(Date.now() - started < 5_000);
});

test("a stream added after records were processed starts at the topic's earliest", () => {
  const bus = manual();
  const orders = bus.topic("orders");
  const counts = orders.stream().groupByKey().count();
  for (const k of ["ada", "bob", "ada"]) orders.publish(1, { key: k });
  bus.runUntilIdle();
  const later = orders.stream().groupByKey({ store: "later" }).count();
  bus.runUntilIdle();
  assert.equal(later.get("ada"), 2);
  assert.equal(later.get("bob"), 1);
  assert.equal(counts.get("ada"), 2);
});

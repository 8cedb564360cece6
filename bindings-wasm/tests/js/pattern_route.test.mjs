import { test } from "node:test";
import assert from "node:assert/strict";
import { ringlet, throwsNamed, rejectsNamed, manual } from "./ringlet.mjs";

const drain = (sub) => sub.pollMany(10000).map((r) => [r.topic, r.value]);
const values = (t) => t.subscribe({ start: "earliest" }).pollMany(10000).map((r) => r.value);

test("a pattern reads every matching topic, including topics created later", () => {
  const bus = manual();
  const eu = bus.topic("orders.eu");
  bus.topic("old.orders.eu").publish("not matched: the whole name must match");
  bus.queue("orders.jobs");
  eu.publish({ id: 1 });
  const sub = bus.subscribePattern("orders\\..*", { start: "earliest" });
  assert.ok(sub instanceof ringlet.PatternSubscription);
  assert.equal(sub.pattern, "orders\\..*");
  assert.equal(sub.group, undefined);
  assert.deepEqual(sub.topics(), ["orders.eu"]);
  const us = bus.topic("orders.us", { partitions: 2 });
  us.publish({ id: 2 });
  const got = drain(sub).sort();
  assert.deepEqual(got, [["orders.eu", { id: 1 }], ["orders.us", { id: 2 }]]);
  assert.deepEqual(sub.topics(), ["orders.eu", "orders.us"]);
  assert.equal(sub.poll(), undefined);
  assert.equal(sub.lag, 0);
  assert.equal(sub.skipped, 0);
  // Plain subscriptions' records have no topic.
  assert.equal(eu.subscribe({ start: "earliest" }).poll().topic, undefined);
  assert.deepEqual(sub.notRead(), []);
  sub.close();
  throwsNamed(assert, () => sub.poll(), "Closed");
  throwsNamed(assert, () => sub.commit(), "TypeError", /groupPattern/);
  bus.free();
});

test("next() waits for a topic created later; for await ends at close; deleted topics are drained", async () => {
  const bus = manual();
  const sub = bus.subscribePattern("late\\..*");
  const p = sub.next();
  bus.topic("late.one").publish("hello");
  const r = await p;
  assert.deepEqual([r.topic, r.value], ["late.one", "hello"]);
  bus.topic("late.two");
  assert.deepEqual(drain(sub), []); // found here, read from its first record
  bus.getTopic("late.two").publish(1);
  bus.delete("late.two");
  assert.deepEqual(drain(sub), [["late.two", 1]]);
  assert.deepEqual(sub.topics(), ["late.one"]);
  bus.getTopic("late.one").publish("last");
  const seen = [];
  for await (const rec of sub) {
    seen.push(rec.value);
    sub.close();
  }
  assert.deepEqual(seen, ["last"]);
  await rejectsNamed(assert, sub.next(), "Closed");
  bus.free();
});

test("bad patterns and options are typed errors", () => {
  const bus = manual();
  throwsNamed(assert, () => bus.subscribePattern("orders.("), "ConfigError", /not a regular expression/);
  throwsNamed(assert, () => bus.subscribePattern(42), "TypeError");
  throwsNamed(assert, () => bus.subscribePattern(".*", { start: "yesterday" }), "TypeError");
  throwsNamed(assert, () => bus.subscribePattern(".*", { from: "earliest" }), "TypeError");
  throwsNamed(assert, () => bus.groupPattern(".*", "g", { sessionTimeoutMs: -1 }), "RangeError");
  throwsNamed(assert, () => bus.groupPattern(".*", 7), "TypeError");
  bus.free();
});

test("pattern group members share partitions across topics and commit", () => {
  const bus = manual();
  const a = bus.topic("g.a", { partitions: 4 });
  const b = bus.topic("g.b", { partitions: 2 });
  const m1 = bus.groupPattern("g\\..*", "billing", { start: "earliest" });
  const m2 = bus.groupPattern("g\\..*", "billing", { start: "earliest" });
  assert.equal(m1.group, "billing");
  for (let i = 0; i < 50; i++) {
    a.publish(i, { key: `k${i}` });
    b.publish(100 + i, { key: `k${i}` });
  }
  const seen = [...drain(m1), ...drain(m2)].sort();
  const want = [];
  for (let i = 0; i < 50; i++) want.push(["g.a", i], ["g.b", 100 + i]);
  assert.deepEqual(seen, want.sort());
  const owned = {};
  for (const m of [m1, m2]) {
    for (const [topic, parts] of Object.entries(m.assignment())) (owned[topic] ??= []).push(...parts);
  }
  assert.deepEqual(owned["g.a"].sort(), [0, 1, 2, 3]);
  assert.deepEqual(owned["g.b"].sort(), [0, 1]);
  m1.commit();
  m2.commit();
  const committed = [...a.group("billing").committed(), ...b.group("billing").committed()];
  assert.equal(committed.reduce((s, c) => s + (c ?? 0), 0), 100);
  bus.free();
});

test("route sends each record to the topic its function names, made on first use", () => {
  const bus = manual();
  const orders = bus.topic("orders");
  orders.stream().route((r) => `orders.${r.value.country}`, { partitions: 2 });
  ["eu", "us", "eu"].forEach((c, n) => orders.publish({ country: c, n }, { key: `c${n}`, headers: { source: "web" } }));
  bus.runUntilIdle();
  const eu = bus.getTopic("orders.eu").subscribe({ start: "earliest" }).pollMany(100);
  assert.deepEqual(eu.map((r) => r.value.n), [0, 2]);
  assert.equal(eu[0].key, "c0");
  assert.deepEqual(eu[0].headers.map(([n, v]) => [n, new TextDecoder().decode(v)]), [["source", "web"]]);
  assert.equal(bus.getTopic("orders.us").partitions, 2);
  const route = bus.topology().describe().toJSON().nodes.find((n) => n.op === "route");
  assert.deepEqual(route.topics, ["orders.eu", "orders.us"]);
  bus.free();
});

test("a route that throws, names no string, or may not be taken fails its record", () => {
  const bus = manual({ namingRule: "<domain>.<product>" });
  const orders = bus.topic("shop.orders");
  bus.topic("shop.eu");
  bus.topology().onError("skip");
  orders.stream().route((r) => {
    if (r.value === "boom") throw new RangeError("no route for boom");
    if (r.value === "number") return 7;
    return r.value;
  }, { create: false });
  for (const v of ["shop.eu", "boom", "number", "shop.mars", "shop.orders"]) orders.publish(v);
  bus.runUntilIdle();
  assert.deepEqual(values(bus.getTopic("shop.eu")), ["shop.eu"]);
  const errs = bus.topology().errors;
  assert.equal(errs.length, 4);
  assert.ok(errs.every((e) => e.name === "StreamError"));
  assert.equal(errs[0].cause.name, "RangeError");
  assert.match(errs[1].cause.message, /must return a topic name \(a string\), not a number/);
  assert.match(errs[2].message, /shop\.mars/);
  assert.match(errs[3].message, /loop/);
  assert.ok(!bus.names().includes("shop.mars"));
  throwsNamed(assert, () => orders.stream().route(() => "x.y", { create: false, partitions: 3 }), "TypeError", /create: true/);
  throwsNamed(assert, () => orders.stream().route("shop.eu"), "TypeError");
  throwsNamed(assert, () => orders.stream().route(() => "x.y", { partitons: 3 }), "TypeError");
  // A name the naming rule refuses, with creation on.
  const other = manual({ namingRule: "<domain>.<product>" });
  const src = other.topic("shop.orders");
  src.stream().route((r) => r.value);
  src.publish("nodots");
  throwsNamed(assert, () => other.runUntilIdle(), "StreamError", /<domain>\.<product>/);
  bus.free();
  other.free();
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { ringlet, throwsNamed, manual } from "./ringlet.mjs";

test("the registry: same name same topic, conflicts are errors, names, delete, getTopic/getQueue", () => {
  const bus = manual({ startMs: 1000 });
  assert.equal(bus.now, 1000);
  assert.equal(bus.clock, "manual");
  const a = bus.topic("t", { partitions: 2 });
  const b = bus.topic("t"); // options left out accept what exists
  a.publish(1);
  assert.equal(b.length, 1);
  throwsNamed(assert, () => bus.topic("t", { partitions: 3 }), "ConfigError");
  // Topics here are kept in memory.
  assert.throws(() => bus.topic("d", { durable: true }), /durable topics and queues are not available here: they are kept in memory/);
  assert.equal(bus.topic("m", { durable: false }).length, 0);
  bus.delete("m");
  bus.queue("q");
  throwsNamed(assert, () => bus.topic("q"), "TypeMismatch");
  throwsNamed(assert, () => bus.queue("t"), "TypeMismatch");
  throwsNamed(assert, () => bus.getTopic("nope"), "NotFound");
  throwsNamed(assert, () => bus.getQueue("nope"), "NotFound");
  throwsNamed(assert, () => bus.topic("bad name"), "InvalidName");
  throwsNamed(assert, () => bus.topic("__mine"), "InvalidName");
  assert.equal(bus.getTopic("t").partitions, 2);
  assert.equal(bus.getQueue("q").name, "q");
  assert.deepEqual(bus.names(), ["q", "t"]);
  bus.delete("q");
  assert.deepEqual(bus.names(), ["t"]);
  throwsNamed(assert, () => bus.delete("q"), "NotFound");
  throwsNamed(assert, () => new ringlet.Bus().advance(5), "ConfigError");
  assert.equal(bus.journal(), undefined);
});

test("snapshot is a plain object with numbers; the journal records transitions", () => {
  const bus = manual({ journal: 64 });
  const t = bus.topic("orders", { partitions: 2, capacity: 2 });
  for (let i = 0; i < 3; i++) t.publish(i, { partition: 0 });
  const q = bus.queue("jobs");
  q.send("j");
  q.tryReceive().ack();
  const s = bus.snapshot();
  assert.equal(s.time_ms, 0);
  const orders = s.topics.find((x) => x.name === "orders");
  assert.deepEqual(orders.partitions[0], { partition: 0, earliest: 1, latest: 3, retained: 2 });
  assert.equal(typeof orders.partitions[0].latest, "number");
  assert.equal(s.queues[0].figures.acked, 1);
  const j = bus.journal();
  const kinds = j.pollMany(100).map((r) => r.value.kind);
  assert.deepEqual(kinds, ["append", "append", "evict", "append", "deliver", "ack"]);
  assert.equal(bus.getTopic("__journal").name, "__journal");
  throwsNamed(assert, () => bus.getTopic("__journal").publish(1), "TypeMismatch");
  const later = bus.journal({ start: "latest" });
  t.publish(9, { partition: 1 });
  assert.deepEqual(later.poll().value, { kind: "append", topic: "orders", partition: 1, offset: 0 });
});

test("errors carry a stable name and a clear message", () => {
  const bus = manual();
  const t = bus.topic("x", { capacity: 1 });
  const s = t.subscribe({ start: "earliest" });
  t.publish(1);
  t.publish(2);
  try {
    s.poll();
    assert.fail("no Lagged");
  } catch (e) {
    assert.ok(e instanceof Error);
    assert.equal(e.name, "Lagged");
    assert.equal(e.partition, 0);
    assert.equal(e.skipped, 1);
    assert.match(String(e), /Lagged/);
  }
});

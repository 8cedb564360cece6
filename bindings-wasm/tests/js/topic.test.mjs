import { test } from "node:test";
import assert from "node:assert/strict";
import { ringlet, throwsNamed, rejectsNamed, manual } from "./ringlet.mjs";

test("publish returns receipts and readers get the very values, in order", () => {
  const bus = manual();
  const t = bus.topic("orders", { partitions: 1, capacity: 16 });
  const sub = t.subscribe({ start: "earliest" });
  const v = { id: 1 };
  assert.deepEqual(t.publish(v), { partition: 0, offset: 0 });
  assert.deepEqual(t.publish("two"), { partition: 0, offset: 1 });
  const r = sub.poll();
  assert.equal(r.value, v); // held by reference
  assert.equal(r.offset, 0);
  assert.equal(r.timestamp, 0);
  assert.equal(r.key, undefined);
  assert.deepEqual(r.headers, []);
  assert.equal(sub.poll().value, "two");
  assert.equal(sub.poll(), undefined);
  assert.equal(t.name, "orders");
  assert.equal(t.partitions, 1);
  assert.equal(t.length, 2);
  assert.deepEqual(t.endOffsets(), [2]);
  assert.deepEqual(t.earliestOffsets(), [0]);
  assert.deepEqual(t.config(), { partitions: 1, capacity: 16, max_age_ms: null, on_full: "overwrite", compacted: false });
});

test("keys: same key same partition (Kafka's murmur2), text and bytes keys come back as given", () => {
  const bus = manual();
  const t = bus.topic("k", { partitions: 3 });
  const sub = t.subscribe({ start: "earliest" });
  const parts = new Set();
  for (let i = 0; i < 5; i++) parts.add(t.publish(i, { key: "customer-42" }).partition);
  assert.equal(parts.size, 1);
  // Kafka puts "customer-42" on partition (murmur2 & 0x7fffffff) % 3.
  const bytes = new Uint8Array([1, 2, 3]);
  const rb = t.publish("b", { key: bytes, headers: { source: "web", raw: new Uint8Array([9]) } });
  const recs = sub.pollMany(100);
  assert.equal(recs.length, 6);
  assert.equal(recs[0].key, "customer-42");
  const b = recs.find((r) => r.value === "b");
  assert.ok(b.key instanceof Uint8Array);
  assert.deepEqual([...b.key], [1, 2, 3]);
  assert.equal(b.partition, rb.partition);
  assert.equal(b.headers[0][0], "source");
  assert.equal(new TextDecoder().decode(b.headers[0][1]), "web");
  assert.deepEqual([...b.headers[1][1]], [9]);
  // unkeyed: round robin
  const rr = [0, 1, 2].map((i) => t.publish(i).partition).sort();
  assert.deepEqual(rr, [0, 1, 2]);
  // explicit partition and timestamp, headers as pairs
  const r = t.publish("p", { partition: 2, timestamp: new Date(5000), headers: [["a", "b"]] });
  assert.equal(r.partition, 2);
  const last = sub.pollMany(10).find((x) => x.value === "p");
  assert.equal(last.timestamp, 5000);
  throwsNamed(assert, () => t.publish(1, { partition: 3 }), "OutOfRange", /has 3 partitions/);
  assert.throws(() => t.publish(1, { partition: 3 }), (e) => e.partition === 3);
  return rejectsNamed(assert, t.publishAsync(1, { partition: 3 }), "OutOfRange");
});

test("eviction: Lagged once with the exact count, then the oldest retained; iteration counts gaps", async () => {
  const bus = manual();
  const t = bus.topic("small", { capacity: 2 });
  const sub = t.subscribe({ start: "earliest" });
  const it = t.subscribe({ start: "earliest" });
  for (let i = 0; i < 5; i++) t.publish(i);
  assert.throws(() => sub.poll(), (e) => e.name === "Lagged" && e.partition === 0 && e.skipped === 3);
  assert.equal(sub.poll().value, 3);
  assert.equal(sub.skipped, 3);
  t.close();
  const seen = [];
  for await (const r of it) seen.push(r.value);
  assert.deepEqual(seen, [3, 4]);
  assert.equal(it.skipped, 3);
  assert.equal(t.isClosed, true);
  throwsNamed(assert, () => t.publish(9), "Closed");
  assert.equal(sub.poll().value, 4);
  throwsNamed(assert, () => sub.poll(), "Closed");
});

test("onLag: latest jumps to the end; error stays failed until seek", async () => {
  const bus = manual();
  const t = bus.topic("lag", { capacity: 2 });
  const latest = t.subscribe({ start: "earliest", onLag: "latest" });
  const strict = t.subscribe({ start: "earliest", onLag: "error" });
  for (let i = 0; i < 5; i++) t.publish(i);
  throwsNamed(assert, () => latest.poll(), "Lagged");
  assert.equal(latest.poll(), undefined);
  throwsNamed(assert, () => strict.poll(), "Lagged");
  throwsNamed(assert, () => strict.poll(), "Lagged");
  await rejectsNamed(assert, strict.iterNext(), "Lagged");
  strict.seek("earliest");
  assert.equal(strict.poll().value, 3);
});

test("next() resolves when a record is published; two pending next() are served in order", async () => {
  const bus = manual();
  const t = bus.topic("n");
  const sub = t.subscribe();
  const a = sub.next();
  const b = sub.next();
  let settled = false;
  a.then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(settled, false);
  t.publish("x");
  t.publish("y");
  assert.equal((await a).value, "x");
  assert.equal((await b).value, "y");
  const c = sub.next();
  sub.close();
  await rejectsNamed(assert, c, "Closed");
  throwsNamed(assert, () => sub.poll(), "Closed");
});

test("pollMany takes what is ready and stops before a gap", () => {
  const bus = manual();
  const t = bus.topic("b", { capacity: 4 });
  const sub = t.subscribe({ start: "earliest" });
  assert.equal(t.publishMany([1, 2, 3]), 3);
  assert.deepEqual(sub.pollMany(2).map((r) => r.value), [1, 2]);
  assert.deepEqual(sub.pollMany().map((r) => r.value), [3]);
  assert.deepEqual(sub.pollMany(5), []);
  t.publishMany(new Set([4, 5, 6, 7, 8, 9]));
  throwsNamed(assert, () => sub.pollMany(10), "Lagged");
  assert.deepEqual(sub.pollMany(10).map((r) => r.value), [6, 7, 8, 9]);
  throwsNamed(assert, () => sub.pollMany(0), "RangeError");
});

test("subscription starts: offset, per partition, timestamp; positions, lag, seek", () => {
  const bus = manual();
  const t = bus.topic("s", { partitions: 2 });
  for (let i = 0; i < 6; i++) {
    t.publish(i, { partition: i % 2, timestamp: i * 10 });
  }
  assert.deepEqual(t.subscribe({ start: 2 }).positions(), [2, 2]);
  assert.deepEqual(t.subscribe({ start: [[1, 1]] }).positions(), [3, 1]);
  const byTime = t.subscribe({ start: { timestamp: 25 } });
  // p0 holds timestamps 0, 20, 40; p1 10, 30, 50: the first at or after 25.
  assert.deepEqual(byTime.positions(), [2, 1]);
  assert.deepEqual(t.offsetsForTimes(25), [2, 1]);
  assert.deepEqual(t.offsetsForTimes(new Date(25)), [2, 1]);
  const s = t.subscribe({ start: "earliest" });
  assert.equal(s.lag, 6);
  s.poll();
  assert.equal(s.lag, 5);
  s.seek("latest");
  assert.equal(s.lag, 0);
  s.seek(new Date(0));
  assert.equal(s.lag, 6);
  throwsNamed(assert, () => t.subscribe({ start: 99 }), "OutOfRange");
  assert.deepEqual(t.offsetsForTimes(1000), [null, null]);
});

test("block topics: publish throws Full while a reader gates; publishAsync waits for room", async () => {
  const bus = manual();
  const t = bus.topic("blk", { capacity: 2, onFull: "block" });
  const sub = t.subscribe({ start: "earliest" });
  t.publish(1);
  t.publish(2);
  throwsNamed(assert, () => t.publish(3), "Full", /publishAsync/);
  assert.throws(() => t.publishMany([3, 4]), (e) => e.name === "Full" && e.published === 0);
  const p = t.publishAsync(3, { key: "k" });
  let done = false;
  p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(done, false);
  assert.equal(sub.poll().value, 1);
  assert.deepEqual(await p, { partition: 0, offset: 2 });
  // keep: never evicts, whoever reads
  const keep = bus.topic("store", { capacity: 1, onFull: "keep" });
  keep.publish("a");
  throwsNamed(assert, () => keep.publish("b"), "Full");
  await rejectsNamed(assert, keep.publishAsync("b"), "Full");
});

test("max age expires from the oldest end on the bus clock", () => {
  const bus = manual();
  const t = bus.topic("age", { maxAgeMs: 1000 });
  const sub = t.subscribe({ start: "earliest" });
  t.publish("old");
  bus.advance(600);
  t.publish("new");
  bus.advance(600);
  throwsNamed(assert, () => sub.poll(), "Lagged");
  assert.equal(sub.poll().value, "new");
});

for (const onFull of ["overwrite", "block", "reject", "keep"]) {
  test(`unread records that expire are reported as Lagged on ${onFull} topics`, () => {
    const bus = manual();
    const t = bus.topic("expiring", { capacity: 8, onFull, maxAgeMs: 1000 });
    const sub = t.subscribe({ start: "earliest" });
    t.publishMany(["a", "b", "c"]);
    assert.equal(sub.lag, 3);
    bus.advance(2000);
    assert.equal(sub.lag, 0);
    t.publish("d");
    assert.throws(() => sub.poll(), (e) => e.name === "Lagged" && e.skipped === 3);
    assert.equal(sub.skipped, 3);
    assert.equal(sub.poll().value, "d");
  });
}

import { test } from "node:test";
import assert from "node:assert/strict";
import { ringlet, throwsNamed, rejectsNamed, manual } from "./ringlet.mjs";

test("members share the partitions; a rebalance on join and leave; resume from committed offsets", () => {
  const bus = manual({ journal: 1000 });
  const t = bus.topic("orders", { partitions: 4 });
  const g = t.group("billing", { start: "earliest", autoCommit: false });
  assert.equal(g.name, "billing");
  assert.equal(g.topic, "orders");
  assert.deepEqual(g.config(), { start: "earliest", autoCommit: false, sessionTimeoutMs: 45000 });
  const assigned = [];
  const a = g.join({ onAssign: (p) => assigned.push(["a+", p]), onRevoke: (p) => assigned.push(["a-", p]) });
  for (let i = 0; i < 8; i++) t.publish(i, { partition: i % 4 });
  assert.deepEqual(a.assignment(), [0, 1, 2, 3]);
  const b = g.join();
  assert.deepEqual(b.assignment().length, 2);
  assert.deepEqual(a.assignment().length, 2);
  assert.deepEqual(g.members().map((m) => m.partitions.length), [2, 2]);
  const seenA = a.pollMany(100).map((r) => r.value);
  const seenB = b.pollMany(100).map((r) => r.value);
  assert.deepEqual([...seenA, ...seenB].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
  a.commit();
  b.commit();
  assert.deepEqual(g.committed(), [2, 2, 2, 2]);
  assert.deepEqual(g.lag(), [0, 0, 0, 0]);
  assert.deepEqual(assigned[0], ["a+", [0, 1, 2, 3]]);
  assert.equal(assigned[1][0], "a-");
  // b leaves without committing its new reads: a takes over from the committed offsets
  t.publish("late", { partition: b.assignment()[0] });
  b.leave();
  assert.equal(b.isClosed, true);
  throwsNamed(assert, () => b.poll(), "Closed");
  assert.deepEqual(a.assignment(), [0, 1, 2, 3]);
  assert.equal(a.poll().value, "late");
  const kinds = bus.journal().pollMany(1000).map((r) => r.value.kind);
  assert.ok(kinds.includes("rebalance") && kinds.includes("join") && kinds.includes("leave") && kinds.includes("commit"));
  assert.equal(g.snapshot().members.length, 1);
});

test("commit offsets, seek, positions, pause/resume, NotOwner, endOffsets, skipped", async () => {
  const bus = manual();
  const t = bus.topic("m", { partitions: 2, capacity: 2 });
  const g = t.group("g", { start: "earliest" });
  const m = g.join();
  assert.deepEqual(m.assignment(), [0, 1]);
  t.publish("a", { partition: 0 });
  t.publish("b", { partition: 1 });
  m.pause([1]);
  assert.deepEqual(m.paused(), [1]);
  assert.equal(m.poll().value, "a");
  assert.equal(m.poll(), undefined);
  m.resume([1]);
  assert.equal(m.poll().value, "b");
  assert.deepEqual(m.positions(), [[0, 1], [1, 1]]);
  m.seek(0, 0);
  assert.equal(m.poll().value, "a");
  m.commit([[0, 1]]);
  assert.deepEqual(g.committed(), [1, null]);
  throwsNamed(assert, () => m.commit([[5, 0]]), "OutOfRange");
  assert.deepEqual(m.endOffsets(), [1, 1]);
  for (let i = 0; i < 4; i++) t.publish(i, { partition: 0 });
  const got = [];
  const n = m.iterNext();
  got.push((await n).value);
  assert.equal(m.skipped, 2);
  assert.deepEqual(got, [2]);
  const other = g.join();
  other.assignment();
  assert.ok(m.assignment().length === 1);
  const notMine = [0, 1].find((p) => !m.assignment().includes(p));
  throwsNamed(assert, () => m.seek(notMine, 0), "NotOwner");
  m.close();
  other.leave();
  other.leave();
});

test("next() waits for a record of an owned partition; a throwing listener surfaces and loses nothing", async () => {
  const bus = manual();
  const t = bus.topic("l", { partitions: 1 });
  const g = t.group("g", { start: "earliest" });
  let fail = true;
  const m = g.join({
    onAssign: () => {
      if (fail) throw new Error("listener failed");
    },
  });
  t.publish("first");
  assert.throws(() => m.poll(), /listener failed/);
  fail = false;
  assert.equal(m.poll().value, "first"); // put back, not lost
  const p = m.next();
  t.publish("second");
  assert.equal((await p).value, "second");
  const q = m.next();
  m.leave();
  await rejectsNamed(assert, q, "Closed");
});

test("a member calling back into itself from a listener gets Busy, not a trap", () => {
  const bus = manual();
  const t = bus.topic("re");
  const g = t.group("g");
  let m;
  let seen;
  m = g.join({ onAssign: () => { try { m.assignment(); seen = "ok"; } catch (e) { seen = e.name; } } });
  m.poll();
  assert.ok(seen === "ok" || seen === "Busy");
  assert.equal(m.poll(), undefined);
});

test("for await over a member ends when it leaves", async () => {
  const bus = manual();
  const t = bus.topic("fa");
  const m = t.group("g", { start: "earliest" }).join();
  t.publishMany([1, 2]);
  const seen = [];
  for await (const r of m) {
    seen.push(r.value);
    if (seen.length === 2) m.leave();
  }
  assert.deepEqual(seen, [1, 2]);
});

test("share groups: records delivered one member at a time, acked, redelivered, dead-lettered", async () => {
  const bus = manual();
  const dl = bus.topic("dead");
  const deadSub = dl.subscribe({ start: "earliest" });
  const t = bus.topic("tasks", { partitions: 2 });
  const sg = t.shareGroup("workers", { start: "earliest", visibilityTimeoutMs: 1000, maxDeliveries: 2, deadLetter: "dead" });
  assert.equal(sg.name, "workers");
  assert.equal(sg.config().maxDeliveries, 2);
  const w1 = sg.join();
  const w2 = sg.join();
  t.publishMany(["a", "b", "c"]);
  const d1 = w1.tryReceive();
  const d2 = w2.tryReceive();
  assert.notEqual(d1.value, d2.value);
  const d2value = d2.value;
  assert.equal(typeof d1.partition, "number");
  assert.equal(typeof d1.offset, "number");
  d1.ack();
  bus.advance(1000); // d2 expires
  throwsNamed(assert, () => d2.ack(), "Expired");
  const rest = w1.receiveMany(10);
  assert.equal(rest.length, 2);
  const again = rest.find((d) => d.value === d2value);
  assert.equal(again.attempt, 2);
  again.nack(); // second failure: dead letter
  assert.equal(deadSub.poll().value, d2value);
  rest.find((d) => d !== again).ack();
  const p = w2.receive();
  t.publish("d");
  assert.equal((await p).value, "d");
  assert.equal(sg.snapshot().name, "workers");
  w1.leave();
  assert.equal(w1.isClosed, true);
  throwsNamed(assert, () => w1.tryReceive(), "Closed");
  t.close();
  const seen = [];
  for await (const d of w2) seen.push(d.value);
  assert.deepEqual(seen, []);
});

test("every listener runs when one throws; the first exception surfaces and the read is put back", () => {
  // A member that missed its session timeout rejoins at its next call: that call sees
  // its partition revoked and assigned again.
  const bus = manual();
  const t = bus.topic("rj");
  const g = t.group("g", { start: "earliest", sessionTimeoutMs: 10000 });
  const seen = [];
  const m = g.join({
    onAssign: (p) => seen.push(["+", p]),
    onRevoke: (p) => {
      seen.push(["-", p]);
      throw new Error("revoke failed");
    },
  });
  assert.deepEqual(m.assignment(), [0]);
  bus.advance(11000);
  t.publish("x");
  assert.throws(() => m.poll(), /revoke failed/);
  assert.deepEqual(seen, [["+", [0]], ["-", [0]], ["+", [0]]]);
  assert.equal(m.poll().value, "x");
});

test("freeing a reader with a pending call rejects it with Closed and unregisters the reader", async () => {
  const bus = manual();
  const t = bus.topic("freed-pending", { capacity: 1, onFull: "block" });
  const pending = [];
  const sub = t.subscribe();
  pending.push(sub.next());
  sub.free();
  const member = t.group("g").join();
  pending.push(member.next());
  member.free();
  const q = bus.queue("freed-q");
  pending.push(q.receive());
  q.free();
  const share = t.shareGroup("s");
  const sm = share.join();
  pending.push(sm.receive());
  sm.free();
  share.free();
  for (const p of pending) await rejectsNamed(assert, p, "Closed");
  // Nothing freed still reads: a block topic is not held full by them.
  t.publish("a");
  assert.equal(t.publish("b").offset, 1);
});

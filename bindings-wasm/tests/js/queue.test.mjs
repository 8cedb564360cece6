import { test } from "node:test";
import assert from "node:assert/strict";
import { ringlet, throwsNamed, rejectsNamed, manual } from "./ringlet.mjs";

test("send, tryReceive, ack; Full when full; figures count everything", () => {
  const bus = manual();
  const q = bus.queue("jobs", { capacity: 2 });
  const job = { job: 1 };
  q.send(job);
  q.send("b", { key: "k", headers: { h: "v" } });
  throwsNamed(assert, () => q.send("c"), "Full", /sendAsync/);
  assert.throws(() => q.sendMany(["c", "d"]), (e) => e.name === "Full" && e.sent === 0);
  assert.equal(q.length, 2);
  const d = q.tryReceive();
  assert.equal(d.value, job);
  assert.equal(d.attempt, 1);
  assert.equal(d.key, undefined);
  assert.equal(d.partition, undefined);
  assert.equal(d.isSettled, false);
  d.ack();
  assert.equal(d.isSettled, true);
  throwsNamed(assert, () => d.ack(), "AlreadySettled");
  throwsNamed(assert, () => d.value, "AlreadySettled");
  const e = q.tryReceive();
  assert.equal(e.key, "k");
  assert.equal(new TextDecoder().decode(e.headers[0][1]), "v");
  e.reject();
  assert.equal(q.tryReceive(), undefined);
  const f = q.figures();
  assert.equal(f.sent, 2);
  assert.equal(f.acked, 1);
  assert.equal(f.dropped, 1);
  assert.equal(f.ready, 0);
  assert.equal(q.name, "jobs");
  assert.equal(q.config().capacity, 2);
  assert.equal(q.snapshot().figures.sent, 2);
});

test("nack puts the message back first; the visibility timeout redelivers; the poison message is dead-lettered", () => {
  const bus = manual();
  const dlq = bus.queue("jobs.dlq");
  const q = bus.queue("jobs", { visibilityTimeoutMs: 5000, maxDeliveries: 3, deadLetter: "jobs.dlq" });
  q.send("poison");
  q.send("fine");
  const a = q.tryReceive();
  assert.equal(a.value, "poison");
  a.nack();
  const b = q.tryReceive();
  assert.equal(b.value, "poison");
  assert.equal(b.attempt, 2);
  // held past its visibility timeout: redelivered, and the late ack fails
  bus.advance(4999);
  assert.equal(q.figures().in_flight, 1);
  bus.advance(1);
  throwsNamed(assert, () => b.ack(), "Expired");
  const c = q.tryReceive();
  assert.equal(c.value, "poison");
  assert.equal(c.attempt, 3);
  c.nack();
  // third attempt failed: to the dead letter
  const dead = dlq.tryReceive();
  assert.equal(dead.value, "poison");
  assert.equal(q.figures().dead_lettered, 1);
  assert.equal(q.tryReceive().value, "fine");
});

test("delayed sends and nacks become ready on the bus clock", () => {
  const bus = manual();
  const q = bus.queue("later");
  q.send("d", { delayMs: 100 });
  assert.equal(q.tryReceive(), undefined);
  assert.equal(q.figures().delayed, 1);
  assert.equal(bus.nextDeadline, 100);
  bus.advance(100);
  const d = q.tryReceive();
  d.nack(50);
  assert.equal(q.tryReceive(), undefined);
  bus.advance(50);
  assert.equal(q.tryReceive().attempt, 2);
});

test("receive() waits; competing receivers each get one message; for await ends at close", async () => {
  const bus = manual();
  const q = bus.queue("w");
  const r1 = q.receive();
  const r2 = q.receive();
  q.send(1);
  q.send(2);
  const got = [(await r1).value, (await r2).value].sort();
  assert.deepEqual(got, [1, 2]);
  q.sendMany([3, 4, 5]);
  q.close();
  throwsNamed(assert, () => q.send(6), "Closed");
  const seen = [];
  for await (const d of q) {
    seen.push(d.value);
    d.ack();
  }
  assert.deepEqual(seen, [3, 4, 5]);
  assert.equal(q.isClosed, true);
  await rejectsNamed(assert, q.receive(), "Closed");
  throwsNamed(assert, () => q.tryReceive(), "Closed");
});

test("sendAsync waits for room; receiveMany takes a batch", async () => {
  const bus = manual();
  const q = bus.queue("cap", { capacity: 1 });
  await q.sendAsync("a");
  const p = q.sendAsync("b", { key: "k" });
  let sent = false;
  p.then(() => (sent = true));
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(sent, false);
  q.tryReceive().ack();
  await p;
  const batch = q.receiveMany(10);
  assert.equal(batch.length, 1);
  assert.equal(batch[0].key, "k");
  assert.deepEqual(q.receiveMany(), []);
});

test("on the system clock a Promise waiting for a delayed message resolves through one setTimeout", async () => {
  const bus = new ringlet.Bus();
  assert.equal(bus.clock, "system");
  const q = bus.queue("soon", { visibilityTimeoutMs: 40 });
  const t0 = Date.now();
  q.send("x", { delayMs: 30 });
  const d = await q.receive();
  assert.ok(Date.now() - t0 >= 29, `too early: ${Date.now() - t0} ms`);
  assert.equal(d.value, "x");
  // not acked: redelivered after the visibility timeout, again without polling
  const again = await q.receive();
  assert.equal(again.attempt, 2);
  throwsNamed(assert, () => d.ack(), "Expired");
  again.ack();
});

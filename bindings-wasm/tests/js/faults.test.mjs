import { test } from "node:test";
import assert from "node:assert/strict";
import { ringlet, throwsNamed, manual } from "./ringlet.mjs";

const faultEvents = (bus, reason) =>
  bus.journal().pollMany(100000).map((r) => r.value).filter((e) => e.kind === "fault" && e.reason === reason);

test("a crashed member keeps its partitions until the session timeout", () => {
  const bus = manual({ journal: 1000 });
  const t = bus.topic("orders", { partitions: 2 });
  const g = t.group("billing", { start: "earliest", sessionTimeoutMs: 10000 });
  const a = g.join();
  const b = g.join();
  assert.deepEqual([a.assignment(), b.assignment()], [[0], [1]]);
  const faults = bus.faults();
  assert.equal(faults.crash(a), true);
  assert.equal(faults.crash(a), false);
  throwsNamed(assert, () => a.poll(), "Closed");
  bus.advance(6000);
  assert.deepEqual(b.assignment(), [1]);
  bus.advance(4000);
  assert.deepEqual(b.assignment(), [0, 1]);
  const crash = faultEvents(bus, "crash");
  assert.deepEqual(crash.map((e) => [e.group, e.member]), [["billing", a.id]]);
  assert.equal(faults.figures().crashed, 1);
});

test("crashed share members and deliveries come back at the visibility timeout", () => {
  const bus = manual();
  const t = bus.topic("orders");
  const sg = t.shareGroup("workers", { start: "earliest", visibilityTimeoutMs: 5000 });
  const a = sg.join();
  const b = sg.join();
  t.publish("x");
  const held = a.tryReceive();
  assert.equal(bus.faults().crash(a), true);
  throwsNamed(assert, () => held.ack(), "Expired");
  assert.equal(b.tryReceive(), undefined);
  bus.advance(5000);
  const d = b.tryReceive();
  assert.deepEqual([d.value, d.attempt], ["x", 2]);
  d.ack();
  const q = bus.queue("jobs", { visibilityTimeoutMs: 5000 });
  q.send("job");
  const job = q.tryReceive();
  assert.equal(bus.faults().crash(job), true);
  assert.equal(bus.faults().crash(job), false);
  assert.equal(q.figures().in_flight, 1);
  bus.advance(5000);
  assert.equal(q.tryReceive().attempt, 2);
});

test("acks delayed past the visibility timeout redeliver", () => {
  const bus = manual({ journal: 1000 });
  const q = bus.queue("jobs", { visibilityTimeoutMs: 5000 });
  const faults = bus.faults();
  faults.delayAcks("jobs", 8000);
  assert.deepEqual(faults.active(), [{ name: "jobs", fault: "delay_acks", delay_ms: 8000 }]);
  q.send("resize");
  q.tryReceive().ack();
  bus.advance(8000);
  const again = q.tryReceive();
  assert.equal(again.attempt, 2);
  assert.equal(faults.figures().late_acks, 1);
  faults.delayAcks("jobs", 0);
  again.ack();
  assert.equal(q.figures().acked, 1);
  assert.equal(faultEvents(bus, "late_ack").length, 1);
});

test("failed publishes and sends throw the chosen error and store nothing", () => {
  const bus = manual();
  const t = bus.topic("orders");
  const q = bus.queue("jobs");
  const faults = bus.faults();
  faults.failPublishes("orders", 2);
  throwsNamed(assert, () => t.publish(1), "Full");
  assert.throws(() => t.publishMany([2, 3]), (e) => e.name === "Full");
  t.publish(4);
  faults.failPublishes("orders", 1, { error: "io" });
  throwsNamed(assert, () => t.publish(5), "Io", /injected/);
  assert.equal(t.length, 1);
  faults.failSends("jobs", undefined, { error: "closed" });
  throwsNamed(assert, () => q.send("a"), "Closed");
  q.send("b");
  assert.equal(q.length, 1);
  assert.equal(faults.figures().failed, 4);
});

test("fault arguments are checked", () => {
  const bus = manual();
  bus.topic("t", { partitions: 2 });
  bus.queue("q");
  const f = bus.faults();
  throwsNamed(assert, () => f.failPublishes("missing"), "NotFound");
  throwsNamed(assert, () => f.failPublishes("q"), "TypeMismatch", /failSends|fail_sends/);
  throwsNamed(assert, () => f.failSends("q", 1, { error: "slow" }), "TypeError", /error must be one of "full", "closed", "io"/);
  throwsNamed(assert, () => f.failSends("q", 1, { eror: "io" }), "TypeError");
  throwsNamed(assert, () => f.failSends("q", -1), "RangeError");
  throwsNamed(assert, () => f.pausePartition("t", 2), "OutOfRange");
  throwsNamed(assert, () => f.delayAcks("q", NaN), "RangeError");
  throwsNamed(assert, () => f.crash({}), "TypeError", /Member, a ShareMember or a Delivery/);
  throwsNamed(assert, () => f.crash(undefined), "TypeError");
  const freed = bus.queue("q");
  freed.send(1);
  const d = freed.tryReceive();
  d.free();
  throwsNamed(assert, () => f.crash(d), "Closed");
});

test("a paused partition delivers nothing until resumed; clear() resumes", async () => {
  const bus = manual();
  const t = bus.topic("orders", { partitions: 2 });
  const sub = t.subscribe({ start: "earliest" });
  const faults = bus.faults();
  faults.pausePartition("orders", 1);
  for (let v = 0; v < 4; v++) t.publish(v, { partition: v % 2 });
  assert.deepEqual(sub.pollMany(100).map((r) => r.value), [0, 2]);
  const waiting = sub.next();
  faults.resumePartition("orders", 1);
  const r = await waiting;
  assert.deepEqual([r.partition, r.value], [1, 1]);
  faults.pausePartition("orders", 0);
  assert.equal(faults.active().length, 1);
  faults.clear();
  assert.deepEqual(faults.active(), []);
});

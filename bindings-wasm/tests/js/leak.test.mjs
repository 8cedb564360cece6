// Values are released: evicted records, closed subscriptions, freed buses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ringlet, manual } from "./ringlet.mjs";

test("the engine holds at most capacity values over many publish/evict cycles", () => {
  const base = ringlet.liveValues();
  const bus = manual();
  const t = bus.topic("churn", { capacity: 64 });
  const sub = t.subscribe({ start: "earliest" });
  let mid = 0;
  for (let round = 0; round < 200; round++) {
    if (round === 100) mid = ringlet.liveValues() - base;
    t.publishMany(Array.from({ length: 100 }, (_, i) => ({ round, i, pad: "x".repeat(100) })));
    for (let k = 0; k < 3; k++) {
      try { sub.pollMany(1000); } catch (e) { assert.equal(e.name, "Lagged"); }
    }
  }
  // Evicted values stay in their slot until it is reused: bounded by the ring's
  // storage (capacity plus spare slots), never growing.
  const held = ringlet.liveValues() - base;
  assert.equal(held, mid);
  assert.ok(held <= 4 * 64, `held ${held}`);
  sub.close();
  sub.free();
  t.close();
  bus.delete("churn");
  t.free();
  bus.free();
  assert.equal(ringlet.liveValues(), base);
});

test("deliveries and queues release their values when settled or freed", () => {
  const base = ringlet.liveValues();
  const bus = manual();
  const q = bus.queue("jobs", { capacity: 1000 });
  for (let i = 0; i < 10_000; i++) {
    q.send({ i });
    const d = q.tryReceive();
    if (i % 2) d.ack(); else d.reject();
    d.free();
  }
  assert.equal(ringlet.liveValues(), base);
  q.sendMany([1, 2, 3]);
  assert.equal(ringlet.liveValues(), base + 3);
  q.free();
  bus.free();
  assert.equal(ringlet.liveValues(), base);
});

test("published objects are garbage-collected once released by the engine", { skip: typeof globalThis.gc !== "function" && "needs --expose-gc" }, async () => {
  let collected = 0;
  const reg = new FinalizationRegistry(() => collected++);
  const bus = manual();
  const t = bus.topic("gc", { capacity: 8 });
  for (let i = 0; i < 1000; i++) {
    const v = { i, big: new Array(100).fill(i) };
    reg.register(v, i);
    t.publish(v);
  }
  for (let i = 0; i < 10 && collected < 990; i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(collected >= 990 - 64, `only ${collected} collected`);
  t.free();
  bus.free();
});

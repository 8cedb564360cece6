// Node benchmark of the JS package against peers measured in the same run:
// publish+poll and send+receive+ack, per event and batched, vs a plain array queue,
// EventEmitter and RxJS ReplaySubject(1024). Prints events/s and ratios, and the
// cost of a JSON Schema check per publish.
import { createRequire } from "node:module";
import { EventEmitter } from "node:events";
import { ReplaySubject } from "rxjs";
const require = createRequire(import.meta.url);
const { Bus } = require("../pkg/node/ringlet_wasm.js");

const N = 1_000_000;
const BATCH = 256;
const ROUNDS = 5;

function best(fn) {
  let top = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    const n = fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    top = Math.max(top, n / s);
  }
  return top;
}

const results = {};
results.array = best(() => {
  const q = []; let sum = 0;
  for (let i = 0; i < N; i++) { q.push({ i }); sum += q.shift().i; }
  return N;
});
results.emitter = best(() => {
  const e = new EventEmitter(); let sum = 0;
  e.on("ev", (v) => { sum += v.i; });
  for (let i = 0; i < N; i++) e.emit("ev", { i });
  return N;
});
results.replay = best(() => {
  const s = new ReplaySubject(1024); let sum = 0;
  const sub = s.subscribe((v) => { sum += v.i; });
  for (let i = 0; i < N; i++) s.next({ i });
  sub.unsubscribe();
  return N;
});
results.perEvent = best(() => {
  const bus = new Bus(); const t = bus.topic("t", { capacity: 1024 });
  const sub = t.subscribe(); let sum = 0;
  for (let i = 0; i < N; i++) { t.publish({ i }); sum += sub.poll().value.i; }
  sub.free(); t.free(); bus.free();
  return N;
});
results.batched = best(() => {
  const bus = new Bus(); const t = bus.topic("t", { capacity: 1024 });
  const sub = t.subscribe(); let sum = 0;
  const vals = Array.from({ length: BATCH }, (_, i) => ({ i }));
  for (let i = 0; i < N; i += BATCH) {
    t.publishMany(vals);
    for (const r of sub.pollMany(BATCH)) sum += r.value.i;
  }
  sub.free(); t.free(); bus.free();
  return N;
});
results.queue = best(() => {
  const bus = new Bus(); const q = bus.queue("q", { capacity: 1024 });
  for (let i = 0; i < N / 4; i++) { q.send({ i }); const d = q.tryReceive(); d.ack(); d.free(); }
  q.free(); bus.free();
  return N / 4;
});
results.queueBatched = best(() => {
  const bus = new Bus(); const q = bus.queue("q", { capacity: 1024 });
  const vals = Array.from({ length: BATCH }, (_, i) => ({ i }));
  for (let i = 0; i < N / 4; i += BATCH) {
    q.sendMany(vals);
    for (let got = 0; got < BATCH;) {
      const ds = q.receiveMany(BATCH);
      got += ds.length;
      for (const d of ds) { d.ack(); d.free(); }
    }
  }
  q.free(); bus.free();
  return N / 4;
});

// The extra time per publish of a 10-field object on a topic with a JSON Schema
// naming each field's type and requiring all ten (as in the Rust and Python benches).
const props = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f${i}`, { type: ["integer", "string", "number"][i % 3] }]));
const schema = { type: "object", properties: props, required: Object.keys(props) };
const value = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f${i}`, [7, "a short string", 2.5][i % 3]]));
const perPublishNs = (options) => 1e9 / best(() => {
  const bus = new Bus(); const t = bus.topic("t", { capacity: 4096, ...options });
  for (let i = 0; i < N / 4; i++) t.publish(value);
  t.free(); bus.free();
  return N / 4;
});
results.publishPlainNs = perPublishNs({});
results.publishSchemaNs = perPublishNs({ schema });

const m = (x) => `${(x / 1e6).toFixed(2)} M/s`;
console.log(`peers: array queue ${m(results.array)}, EventEmitter ${m(results.emitter)}, ReplaySubject(1024) ${m(results.replay)}`);
const row = (name, v, peer, peerName, target) => {
  const ratio = v / peer;
  console.log(`${name.padEnd(42)} ${m(v).padStart(11)}  ${ratio.toFixed(2)}× ${peerName}  target ≥ ${target}× — ${ratio >= target ? "met" : "missed"}`);
};
row("publish + poll, per event", results.perEvent, results.replay, "ReplaySubject(1024)", 5);
row("publishMany + pollMany (256)", results.batched, results.emitter, "EventEmitter", 0.5);
console.log(`${"send + tryReceive + ack, per message".padEnd(42)} ${m(results.queue).padStart(11)}  ${(results.queue / results.array).toFixed(2)}× array queue`);
console.log(`${"sendMany + receiveMany + ack (256)".padEnd(42)} ${m(results.queueBatched).padStart(11)}  ${(results.queueBatched / results.array).toFixed(2)}× array queue`);
const cost = results.publishSchemaNs - results.publishPlainNs;
console.log(`${"schema check, 10-field object, per publish".padEnd(42)} ${`${cost.toFixed(0)} ns`.padStart(11)}  (a publish alone: ${results.publishPlainNs.toFixed(0)} ns)  goal ≤ 2000 ns — ${cost <= 2000 ? "met" : "missed"}`);

// What a user runs after `npm install ringlet` in a Node project:
//   node node-smoke.mjs <version>       (from the scratch project's folder)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Bus, Full, RingletError } from "ringlet";

const [version] = process.argv.slice(2);
const pkg = JSON.parse(readFileSync("node_modules/ringlet/package.json", "utf8"));
assert.equal(pkg.version, version);

const bus = new Bus({ clock: "manual" });
const orders = bus.topic("orders", { partitions: 3, capacity: 4096 });
const order = { id: 1 };
const receipt = orders.publish(order, { key: "customer-42" });
const sub = orders.subscribe({ start: "earliest" });
const rec = sub.poll();
assert.equal(rec.value, order);
assert.deepEqual([rec.partition, rec.offset], [receipt.partition, receipt.offset]);

const jobs = bus.queue("jobs", { capacity: 1 });
jobs.send({ job: 1 });
assert.throws(() => jobs.send({ job: 2 }), (e) => e instanceof Full && e instanceof RingletError);
const d = await jobs.receive();
d.ack();
assert.equal(bus.snapshot().queues.find((q) => q.name === "jobs").figures.acked, 1);

// The types ship with a doc comment per method.
const dts = readFileSync("node_modules/ringlet/node/ringlet_wasm.d.ts", "utf8");
assert.match(dts, /\/\*\*[^]*?Publishes[^]*?\*\/\s*publish\(/);
console.log(`npm ringlet ${pkg.version} in Node: import, publish, poll, queue and types ok`);

// A seeded fuzzer of the JS API: every public method of every object it can
// reach, called with hostile arguments (Symbol, BigInt, NaN, throwing Proxy
// traps and getters, freed objects, objects of the wrong class, callbacks that
// throw or call back in). Allowed outcomes: a return, the contract's named
// errors, TypeError / RangeError, and the user's own exception (UserError).
// Anything else — a WebAssembly trap, another error, a rejected promise with
// anything else — fails and names the seed and the call.
//
//   RINGLET_FUZZ_SEED=<seed> RINGLET_FUZZ_CALLS=<n> node --expose-gc --test bindings-wasm/tests/js/fuzz.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { ringlet, manual, seeded } from "./ringlet.mjs";

const SEED = Number(process.env.RINGLET_FUZZ_SEED ?? 1) >>> 0;
const CALLS = Number(process.env.RINGLET_FUZZ_CALLS ?? 30_000);

class UserError extends Error {
  constructor(message) {
    super(message);
    this.name = "UserError";
  }
}

const ALLOWED = new Set(["TypeError", "RangeError", "UserError", "RingletError", "Full", "Closed", "Lagged", "Expired",
  "AlreadySettled", "Timeout", "NotOwner", "OutOfRange", "VersionConflict", "TypeMismatch", "ConfigError", "NotFound",
  "InvalidName", "StreamError", "SchemaError", "Busy", "Io"]);
// Ending things is rarer, so most calls meet live objects.
const ENDINGS = new Set(["free", "close", "leave", "ack", "nack", "reject", "delete"]);

/** `test(out)`, false when it throws the fuzzer's own error: a value handed back
 * can be the fuzzer's hostile Proxy, whose traps throw. */
function safely(test, out) {
  try {
    return test(out);
  } catch (e) {
    if (e instanceof UserError) return false;
    throw e;
  }
}
const isPromise = (out) => safely((o) => o instanceof Promise, out);
const isRinglet = (out) => safely((o) => Object.getPrototypeOf(o)?.constructor?.name in ringlet, out);

function seedPool(bus) {
  const dlq = bus.queue(`dlq${bus.names().length}`);
  const t = bus.topic(`t${bus.names().length}`, { partitions: 3, capacity: 64 });
  const q = bus.queue(`q${bus.names().length}`, { capacity: 16, deadLetter: dlq.name });
  for (let i = 0; i < 10; i++) {
    t.publish({ id: i }, { key: `k${i % 3}` });
    q.send(i);
  }
  const sub = t.subscribe({ start: "earliest" });
  const g = t.group(`g${bus.names().length}`, { start: "earliest" });
  const sg = t.shareGroup(`s${bus.names().length}`, { start: "earliest" });
  const top = bus.topology(`top${bus.names().length}`);
  return [bus, t, q, dlq, sub, g, g.join(), sg, sg.join(), q.tryReceive(), sub.poll(), top, top.stream(t),
    bus.eventStore(`es${bus.names().length}`), bus.faults()].filter((o) => o !== undefined && o !== null);
}

function hostileValues(pool, random) {
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const reenter = (...a) => {
    const o = pool[Math.floor(random() * pool.length)];
    for (const m of ["snapshot", "names", "endOffsets", "figures", "committed"]) {
      try { if (typeof o[m] === "function") o[m](); } catch (e) { if (!(e instanceof Error)) throw e; }
    }
    return a[0];
  };
  return [
    undefined, null, true, false, 0, -0, 1, -1, 7, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53, 2 ** 64, -(2 ** 63),
    0n, 10n, -1n, 2n ** 64n, Symbol("s"), Symbol.iterator, "", "a", "x".repeat(10_000), "naïve/\u0000", "\ud800",
    "earliest", "latest", "block", "overwrite", "keep", {}, [], [[]], [[0]], [[-1, 2]], [[0, 1e300]], [1, 2, 3],
    new Array(300).fill(1), { start: "earliest" }, { partitions: -1 }, { capacity: 1e12 }, { key: 5 },
    { headers: { a: 5 } }, { headers: 7 }, { partition: 2 ** 40 }, { delayMs: -1 }, { timestamp: NaN },
    Object.create(null), new Uint8Array(4), new ArrayBuffer(8), new Date(NaN), new Map([[1, 2]]), new Set([1]),
    new Proxy({}, { get() { throw new UserError("get trap"); }, ownKeys() { throw new UserError("ownKeys trap"); },
      has() { throw new UserError("has trap"); }, getPrototypeOf() { throw new UserError("proto trap"); } }),
    revoked.proxy,
    { get start() { throw new UserError("getter"); }, get key() { throw new UserError("getter"); } },
    { valueOf() { throw new UserError("valueOf"); }, toString() { throw new UserError("toString"); } },
    { [Symbol.toPrimitive]() { throw new UserError("toPrimitive"); } },
    { *[Symbol.iterator]() { yield 1; throw new UserError("iterator"); } },
    () => { throw new UserError("callback"); }, reenter, () => undefined, () => Symbol("r"), () => 10n, (x) => x,
    async () => 1, Promise.reject(new UserError("rejected")).catch(() => {}) && Promise.resolve(1),
  ];
}

function check(e, desc) {
  assert.ok(!(e instanceof WebAssembly.RuntimeError), `${desc}: the module trapped: ${e} (RINGLET_FUZZ_SEED=${SEED})`);
  assert.ok(e instanceof Error, `${desc}: a non-Error was thrown: ${String(e)} (RINGLET_FUZZ_SEED=${SEED})`);
  assert.ok(ALLOWED.has(e.name), `${desc}: ${e.name}: ${e.message} (RINGLET_FUZZ_SEED=${SEED})`);
  assert.ok(e.message.length > 0 && !/panicked|unreachable|RuntimeError/.test(e.message),
    `${desc}: ${e.name}: ${e.message} (RINGLET_FUZZ_SEED=${SEED})`);
  return e.name;
}

function describe(v) {
  try {
    if (typeof v === "function") return "fn";
    if (typeof v === "symbol" || typeof v === "bigint") return String(v);
    return JSON.stringify(v)?.slice(0, 60) ?? String(v);
  } catch {
    return "<unprintable>";
  }
}

test(`${CALLS} hostile calls on every public method (seed ${SEED}): typed errors, no trap, the module keeps working`, async () => {
  const random = seeded(SEED);
  const pick = (a) => a[Math.floor(random() * a.length)];
  const bus = manual({ journal: 64 });
  let pool = seedPool(bus);
  const values = hostileValues(pool, random);
  const outcomes = new Map();
  const pending = [];
  const memory = [];
  const failing = [];
  for (let i = 0; i < CALLS; i++) {
    if (i % 2000 === 1999) {
      await Promise.all(pending.splice(0));
      globalThis.gc?.();
      let more;
      try {
        more = seedPool(i % 20000 === 19999 ? manual() : bus);
      } catch (e) {
        check(e, "seeding again"); // the bus was freed or closed by a call above
        more = seedPool(manual());
      }
      // Bounded: a new bus every 20,000 calls, and the oldest objects let go,
      // so what the engine holds (preallocated rings) stays bounded too.
      pool = more.concat(pool.filter(() => random() < 0.8)).slice(0, 300);
      if (i % 10000 === 9999) { memory.push(process.memoryUsage().rss); if (process.env.RINGLET_FUZZ_MEM) console.log(i, JSON.stringify(process.memoryUsage()), ringlet.liveValues(), pool.length); }
    }
    const obj = pick(pool);
    if (obj === undefined) continue;
    const proto = Object.getPrototypeOf(obj);
    const names = Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor" && !n.startsWith("__"));
    if (names.length === 0) continue;
    const name = pick(names);
    if (ENDINGS.has(name) && random() < 0.9) continue;
    const d = Object.getOwnPropertyDescriptor(proto, name);
    const args = Array.from({ length: Math.floor(random() * 4) }, () => (random() < 0.25 ? pick(pool) : pick(values)));
    const desc = `call ${i}: ${proto.constructor?.name}.${name}(${args.map(describe).join(", ")})`;
    let out;
    try {
      out = d.get ? d.get.call(obj) : typeof d.value === "function" ? d.value.apply(obj, args) : undefined;
      outcomes.set("ok", (outcomes.get("ok") ?? 0) + 1);
    } catch (e) {
      const n = check(e, desc);
      outcomes.set(n, (outcomes.get(n) ?? 0) + 1);
      if (failing.length < 500 && !d.get) failing.push([obj, d.value, args, desc]);
      continue;
    }
    if (isPromise(out)) {
      pending.push(Promise.race([out, new Promise((r) => setTimeout(r, 1))]).catch((e) => check(e, `${desc} (its promise)`)));
    } else if (out && typeof out === "object" && isRinglet(out)) {
      pool.push(out);
      if (pool.length > 300) pool.splice(15 + Math.floor(random() * (pool.length - 15)), 1);
    }
  }
  await Promise.all(pending);
  const seen = [...outcomes].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
  console.log(`seed ${SEED}: ${CALLS} calls (${seen}); RSS every 10,000 calls (MB): ${memory.map((m) => Math.round(m / 2 ** 20)).join(" ")}`);
  assert.ok(outcomes.get("TypeError") > 0 && outcomes.get("ok") > 0);
  // Slow leaks: failing calls again and again must not grow the module's memory.
  const replay = async (n) => {
    for (let i = 0; i < n; i++) {
      const [obj, fn, args, desc] = failing[i % failing.length];
      try {
        const out = fn.apply(obj, args);
        if (out instanceof Promise) out.catch((e) => check(e, desc));
      } catch (e) {
        check(e, `again: ${desc}`);
      }
    }
    await new Promise((r) => setTimeout(r, 5));
    globalThis.gc?.();
  };
  await replay(20_000);
  const [rss0, live0] = [process.memoryUsage().rss, ringlet.liveValues()];
  await replay(100_000);
  const [rss1, live1] = [process.memoryUsage().rss, ringlet.liveValues()];
  console.log(`${failing.length} failing calls, 100,000 times again: RSS ${Math.round(rss0 / 2 ** 20)} -> ${Math.round(rss1 / 2 ** 20)} MB, values the engine holds ${live0} -> ${live1}`);
  assert.ok(rss1 - rss0 <= 64 * 2 ** 20, `RSS grew by ${rss1 - rss0} bytes over 100,000 failing calls`);
  assert.ok(live1 - live0 <= 1000, `the engine holds ${live1 - live0} more values after 100,000 failing calls`);
  // The module still works.
  const b = manual();
  const t = b.topic("after");
  const s = t.subscribe({ start: "earliest" });
  t.publish("alive");
  assert.equal(s.poll().value, "alive");
});

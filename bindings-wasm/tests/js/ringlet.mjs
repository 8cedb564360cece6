// The Node build of the package, as the tests use it.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
export const ringlet = require("../../pkg/node/ringlet_wasm.js");

/** Asserts `fn` throws an Error named `name` (a TypeError, RangeError or a Ringlet error). */
export function throwsNamed(assert, fn, name, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Error, `not an Error: ${e}`);
    assert.ok(!(e instanceof WebAssembly.RuntimeError), `the module trapped: ${e}`);
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    isClassed(assert, e, name);
    if (re) assert.match(e.message, re);
    return true;
  });
}

/** A contract error is an instance of its class and of RingletError. */
function isClassed(assert, e, name) {
  const C = ringlet[name];
  if (typeof C === "function" && C.prototype instanceof ringlet.RingletError) {
    assert.ok(e instanceof C, `${name} is not an instance of ringlet.${name}`);
    assert.ok(e instanceof ringlet.RingletError);
  }
}

export async function rejectsNamed(assert, p, name) {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof Error);
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    isClassed(assert, e, name);
    return true;
  });
}

export const manual = (opts = {}) => new ringlet.Bus({ clock: "manual", ...opts });

/** A seeded random generator (mulberry32): the fuzzers' draws, replayable by seed. */
export function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
    if (re) assert.match(e.message, re);
    return true;
  });
}

export async function rejectsNamed(assert, p, name) {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof Error);
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    return true;
  });
}

export const manual = (opts = {}) => new ringlet.Bus({ clock: "manual", ...opts });

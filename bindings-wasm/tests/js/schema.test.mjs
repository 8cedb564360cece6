import { test } from "node:test";
import assert from "node:assert/strict";
import { ringlet, throwsNamed, rejectsNamed, manual } from "./ringlet.mjs";

// One keyword per row, as in Rust and Python: a schema, values it accepts, and
// values it refuses with the JSON pointer and the keyword the error names.
const TABLE = [
  [{ type: "object" }, [{}, { a: 1 }], [[[1], "", "type"], ["x", "", "type"]]],
  [{ type: "object", required: ["id"] }, [{ id: 1 }], [[{ x: 1 }, "", "required"]]],
  [{ properties: { n: { type: "integer" } } }, [{ n: 3 }, {}], [[{ n: 1.5 }, "/n", "type"], [{ n: "3" }, "/n", "type"], [{ n: true }, "/n", "type"]]],
  [{ properties: { n: { minimum: 0, maximum: 10 } } }, [{ n: 0 }, { n: 10 }], [[{ n: -1 }, "/n", "minimum"], [{ n: 11 }, "/n", "maximum"]]],
  [{ properties: { s: { minLength: 2, maxLength: 3 } } }, [{ s: "ab" }, { s: "abc" }], [[{ s: "a" }, "/s", "minLength"], [{ s: "abcd" }, "/s", "maxLength"]]],
  [{ properties: { s: { pattern: "^[A-Z]{3}$" } } }, [{ s: "EUR" }], [[{ s: "eur" }, "/s", "pattern"]]],
  [{ properties: { c: { enum: ["red", "green"] } } }, [{ c: "red" }], [[{ c: "blue" }, "/c", "enum"]]],
  [{ properties: { v: { const: 1 } } }, [{ v: 1 }], [[{ v: 2 }, "/v", "const"]]],
  [{ additionalProperties: false, properties: { a: {} } }, [{ a: 1 }], [[{ a: 1, b: 2 }, "", "additionalProperties"]]],
  [
    { properties: { items: { type: "array", minItems: 1, items: { type: "object", properties: { price: { type: "number" } } } } } },
    [{ items: [{ price: 1.5 }] }],
    [[{ items: [{ price: 1 }, { price: "x" }] }, "/items/1/price", "type"], [{ items: [] }, "/items", "minItems"]],
  ],
  [{ properties: { tags: { uniqueItems: true } } }, [{ tags: [1, 2] }], [[{ tags: [1, 1] }, "/tags", "uniqueItems"]]],
  [{ anyOf: [{ type: "string" }, { type: "number" }] }, ["x", 1], [[null, "", "anyOf"]]],
  [{ oneOf: [{ multipleOf: 2 }, { multipleOf: 3 }] }, [4, 9], [[6, "", "oneOf"], [5, "", "oneOf"]]],
  [{ $defs: { id: { type: "integer" } }, properties: { id: { $ref: "#/$defs/id" } } }, [{ id: 1 }], [[{ id: "1" }, "/id", "type"]]],
  // `format` is an annotation, as in Rust and Python; a property named "format" is a property.
  [{ properties: { mail: { type: "string", format: "email" }, format: { type: "string" } } }, [{ mail: "not an address", format: "x" }], [[{ format: 1 }, "/format", "type"]]],
  [{ properties: { "a/b": { type: "string" } } }, [{ "a/b": "x" }], [[{ "a/b": 1 }, "/a~1b", "type"]]],
];

for (const [i, [schema, good, bad]] of TABLE.entries()) {
  test(`schema keywords accept and refuse (${i}: ${JSON.stringify(schema)})`, () => {
    const bus = manual();
    const t = bus.topic("t", { schema });
    const sub = t.subscribe({ start: "earliest" });
    for (const v of good) t.publish(v);
    for (const [v, path, rule] of bad) {
      let caught;
      try { t.publish(v); } catch (e) { caught = e; }
      assert.ok(caught, `${JSON.stringify(v)} was published`);
      assert.equal(caught.name, "SchemaError", caught.message);
      assert.ok(caught instanceof ringlet.SchemaError && caught instanceof ringlet.RingletError);
      assert.deepEqual([caught.topic, caught.path, caught.rule], ["t", path, rule], caught.message);
      assert.match(caught.message, new RegExp(rule.replace("$", "\\$")));
    }
    const got = sub.pollMany(100).map((r) => r.value);
    assert.equal(got.length, good.length);
    // What was published is what is read: checked in place, not copied.
    got.forEach((v, j) => assert.equal(v, good[j]));
    sub.close();
    bus.free();
  });
}

test("every publish path checks; a batch stops at the first mismatch", async () => {
  const bus = manual();
  const t = bus.topic("t", { schema: { type: "integer" } });
  throwsNamed(assert, () => t.publish("x", { key: "k" }), "SchemaError", /type/);
  throwsNamed(assert, () => t.publishMany([1, 2, "three", 4]), "SchemaError");
  assert.deepEqual(t.endOffsets(), [2], "the values before the mismatch were published");
  await rejectsNamed(assert, t.publishAsync("x"), "SchemaError");
  await t.publishAsync(3);
  assert.deepEqual(t.endOffsets(), [3]);
  const users = bus.topic("users", { compacted: true, schema: { type: "object", required: ["name"] } });
  users.publish({ name: "ada" }, { key: "u1" });
  users.publish(null, { key: "u1" }); // a tombstone passes
  throwsNamed(assert, () => users.publish({}, { key: "u2" }), "SchemaError", /required/);
  bus.free();
});

test("the schema is kept, shown in the catalog, and evolves only compatibly", () => {
  const bus = manual();
  const v1 = { type: "object", properties: { id: { type: "integer" } }, required: ["id"] };
  const t = bus.topic("orders", { schema: v1 });
  assert.deepEqual(t.schema, v1);
  assert.deepEqual(t.metadata.schema, v1);
  assert.deepEqual(bus.catalog()[0].schema, v1);
  const v2 = { ...v1, properties: { ...v1.properties, note: { type: "string" } } };
  t.setSchema(v2);
  assert.deepEqual(t.schema, v2);
  bus.topic("orders"); // left out: kept
  assert.deepEqual(t.schema, v2);
  throwsNamed(assert, () => t.setSchema({ ...v2, required: ["id", "note"] }), "ConfigError", /required/);
  throwsNamed(assert, () => bus.topic("orders", { schema: v1 }), "ConfigError", /removed/);
  throwsNamed(assert, () => t.setSchema({ ...v2, properties: { ...v2.properties, id: { type: "string" } } }), "ConfigError", /type/);
  assert.deepEqual(t.schema, v2);
  const plain = bus.topic("plain");
  assert.equal(plain.schema, null);
  plain.setSchema({ type: "string" }); // a topic without a schema takes any first one
  throwsNamed(assert, () => plain.publish(1), "SchemaError");
  bus.free();
});

test("bad schemas and values the validator cannot read are clear errors", () => {
  const bus = manual();
  throwsNamed(assert, () => bus.topic("a", { schema: "object" }), "TypeError", /JSON Schema \(an object or a boolean\)/);
  throwsNamed(assert, () => bus.topic("a", { schema: [1] }), "TypeError");
  const cyclic = {};
  cyclic.self = cyclic;
  throwsNamed(assert, () => bus.topic("a", { schema: cyclic }), "TypeError", /cycles/);
  throwsNamed(assert, () => bus.topic("a", { schema: { type: 3 } }), "ConfigError", /not a valid JSON Schema/);
  throwsNamed(assert, () => bus.topic("a", { schema: { $schema: "https://example.com/mine" } }), "ConfigError", /draft/);
  assert.deepEqual(bus.names(), []);
  const t = bus.topic("b", { schema: { type: "object", properties: { n: { type: "number" } } } });
  const trap = new Proxy({}, { ownKeys() { throw new Error("no keys for you"); }, get() { throw new Error("no"); } });
  throwsNamed(assert, () => t.publish(trap), "SchemaError", /could not be checked: no/);
  assert.deepEqual(t.endOffsets(), [0]);
  t.publish({ n: 1 }); // still usable
  assert.equal(ringlet.liveValues() > 0, true);
  bus.free();
});

test("drafts: $schema chooses, 2020-12 when absent", () => {
  const bus = manual();
  // Draft 4's exclusiveMaximum is a boolean beside maximum; 2020-12's is a number.
  const d4 = bus.topic("d4", { schema: { $schema: "http://json-schema.org/draft-04/schema#", maximum: 5, exclusiveMaximum: true } });
  throwsNamed(assert, () => d4.publish(5), "SchemaError");
  d4.publish(4);
  const d2020 = bus.topic("d2020", { schema: { exclusiveMaximum: 5 } });
  throwsNamed(assert, () => d2020.publish(5), "SchemaError", /exclusiveMaximum/);
  d2020.publish(4.5);
  bus.free();
});

test("values JSON has no type for are SchemaErrors of rule type", () => {
  const bus = manual();
  const t = bus.topic("t", { schema: { type: "object", properties: { n: { type: "number" } } } });
  for (const v of [undefined, 10n, Symbol("s"), () => 1, { n: 5n }]) {
    throwsNamed(assert, () => t.publish(v), "SchemaError", /breaks `type`/);
  }
  assert.deepEqual(t.endOffsets(), [0]);
  bus.free();
});

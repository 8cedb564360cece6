import { test } from "node:test";
import assert from "node:assert/strict";
import { ringlet, throwsNamed, manual } from "./ringlet.mjs";

test("topics carry an owner, a description and tags; the catalog lists them with their consumers' lag", () => {
  const bus = manual();
  const clicks = bus.topic("web.clicks.v1", {
    partitions: 2, owner: "web", description: "Page clicks", tags: ["pii:none", "tier:1", "pii:none"],
  });
  assert.deepEqual(clicks.metadata, { owner: "web", description: "Page clicks", tags: ["pii:none", "tier:1"], schema: null });
  // Left out: opened as it is; another owner: refused, naming both.
  bus.topic("web.clicks.v1");
  throwsNamed(assert, () => bus.topic("web.clicks.v1", { owner: "mobile" }), "ConfigError", /"web".*"mobile"/);
  for (const page of ["/", "/a", "/b"]) clicks.publish({ page });
  clicks.group("billing", { start: "earliest" }).join();
  const catalog = bus.catalog();
  assert.deepEqual(catalog, [{
    name: "web.clicks.v1", owner: "web", description: "Page clicks", tags: ["pii:none", "tier:1"], schema: null,
    partitions: 2,
    retention: { capacity: 1024, max_age_ms: null, on_full: "overwrite", compacted: false, durable: false },
    records: 3, producers: [], consumers: [{ kind: "group", name: "billing", lag: 3 }], lag: 3,
  }]);
  assert.deepEqual(bus.snapshot().topics[0].metadata, { owner: "web", description: "Page clicks", tags: ["pii:none", "tier:1"] });
});

test("bad metadata is a typed error", () => {
  const bus = manual();
  throwsNamed(assert, () => bus.topic("t", { tags: "finance" }), "TypeError", /array of strings/);
  throwsNamed(assert, () => bus.topic("t", { tags: [1] }), "TypeError");
  throwsNamed(assert, () => bus.topic("t", { owner: 3 }), "TypeError");
  throwsNamed(assert, () => bus.topic("t", { owner: " " }), "ConfigError", /owner is empty/);
  assert.deepEqual(bus.names(), []);
});

test("a naming rule governs new topic names", () => {
  const bus = new ringlet.Bus({ namingRule: "<domain>.<product>.v<version>" });
  assert.match(bus.namingRule, /^<domain>\.<product>\.v<version>/);
  bus.topic("sales.orders.v1");
  throwsNamed(assert, () => bus.topic("orders"), "InvalidName", /naming rule <domain>\.<product>\.v<version>/);
  bus.queue("jobs"); // queues are not topics
  throwsNamed(assert, () => new ringlet.Bus({ namingRule: "<domain" }), "ConfigError");
  throwsNamed(assert, () => new ringlet.Bus({ namingRule: 3 }), "TypeError");
  assert.equal(new ringlet.Bus().namingRule, undefined);
  bus.free();
});

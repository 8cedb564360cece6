// End to end: the playground in headless Chromium (Debian's, driven by
// playwright-core), served on 127.0.0.1. Every lesson is clicked through and what the
// page shows is checked against the engine running in the page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "../../serve.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, "..", "out");
mkdirSync(shots, { recursive: true });
let server, ctx, page, base;
const errors = [];

before(async () => {
  server = await serve(0);
  base = `http://127.0.0.1:${server.address().port}/www/index.html`;
  ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "ringlet-e2e-")), {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await ctx.newPage();
  page.setDefaultTimeout(10_000);
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
});

after(async () => {
  await ctx?.close();
  server?.close();
});

async function open(lesson) {
  // A fresh page each time: the same address again would keep the lesson's state.
  await page.goto("about:blank");
  await page.goto(`${base}#${lesson}`);
  await page.waitForFunction((l) => window.playground?.lesson === l, lesson);
}
const click = (label) => page.getByRole("button", { name: label, exact: true }).click();
const text = (testid) => page.getByTestId(testid).innerText();
const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

test("event stream: offsets after N produces, eviction and the reader's lag come from the engine", async () => {
  await open("stream");
  for (let i = 0; i < 10; i++) await click("Produce a click");
  const drawn = await page.locator(".part[data-partition='0']").evaluate((el) => ({ earliest: +el.dataset.earliest, latest: +el.dataset.latest }));
  const engine = await page.evaluate(() => window.playground.bus.snapshot().topics.find((t) => t.name === "clicks").partitions[0]);
  assert.deepEqual(drawn, { earliest: engine.earliest, latest: engine.latest });
  assert.deepEqual(drawn, { earliest: 2, latest: 10 }); // capacity 8
  assert.equal(await page.locator(".cell.evicted").count(), 2);
  await click("Reader: read one");
  assert.match(await page.locator(".log").innerText(), /Lagged: lagged: 2 records/);
  await click("Reader: read one");
  assert.match(await page.locator(".log").innerText(), /read offset 2: pay/);
  assert.equal(await text("lag"), "7");
  assert.match(await text("journal"), /evict clicks/);
  await shot("1-stream");
});

test("broker: a key lands on the same partition every time; readers keep their own positions", async () => {
  await open("broker");
  await click("Order from customer-a");
  const first = await text("landed");
  const p = first.match(/partition (\d)/)[1];
  await click("Order from customer-a");
  assert.match(await text("landed"), new RegExp(`customer-a → partition ${p}, offset 1`));
  for (let i = 0; i < 3; i++) await click("Order without a key");
  await click("billing reads all");
  assert.equal(await text("billing-lag"), "0");
  assert.equal(await text("analytics-lag"), "5");
  await shot("2-broker");
});

test("queue: competing workers, a crash redelivered after the visibility timeout, poison to the dead letter", async () => {
  await open("queue");
  await click("Send a job");
  await click("Send a job");
  await click("Send a poison job");
  await click("Every idle worker takes one");
  const fig = async (k) => Number(await page.locator(`[data-figure='${k}'] b`).innerText());
  assert.equal(await fig("in_flight"), 3);
  await click("ana crashes holding her job");
  await click("Workers ack (poison: nack)");
  assert.equal(await fig("acked"), 1);
  assert.equal(await fig("nacked"), 1);
  assert.equal(await fig("ready"), 1); // the poison job, back at once
  await page.getByTestId("step5").click(); // ana's job: visibility timeout passed
  assert.equal(await fig("expired"), 1);
  assert.equal(await fig("ready"), 2);
  for (let i = 0; i < 2; i++) {
    await click("Every idle worker takes one");
    await click("Workers ack (poison: nack)");
  }
  assert.match(await text("dead"), /poison-3/);
  assert.equal(await fig("dead_lettered"), 1);
  assert.equal(await fig("redelivered"), 3);
  assert.match(await text("journal"), /dead_letter jobs/);
  assert.equal(await text("crashes"), "1");
  assert.match(await text("journal"), /fault jobs attempt 1 crash/);
  await shot("3-queue");
});

test("queue: acks that arrive after the visibility timeout change nothing; the job is done twice", async () => {
  await open("queue");
  await click("Acks arrive late (8 s) / on time");
  assert.equal(await text("acks"), "arrive 8 s late");
  await click("Send a job");
  await click("Every idle worker takes one");
  await click("Workers ack (poison: nack)");
  const fig = async (k) => Number(await page.locator(`[data-figure='${k}'] b`).innerText());
  assert.equal(await fig("in_flight"), 1); // the ack is on its way
  await page.getByTestId("step5").click(); // the visibility timeout passes first
  assert.equal(await fig("expired"), 1);
  await page.getByTestId("step5").click(); // the ack arrives, too late
  assert.equal(await text("late-acks"), "1");
  assert.equal(await fig("acked"), 0);
  await click("Acks arrive late (8 s) / on time");
  assert.equal(await text("acks"), "on time");
  await click("Every idle worker takes one");
  await click("Workers ack (poison: nack)");
  assert.equal(await fig("acked"), 1);
  assert.equal(await fig("redelivered"), 1);
  const engine = await page.evaluate(() => window.playground.state.faults.figures());
  assert.deepEqual(engine, { failed: 0, delayed_acks: 1, late_acks: 1, crashed: 0 });
  assert.match(await text("journal"), /fault jobs late_ack/);
});

test("consumer groups: removing a member rebalances and the partitions resume from committed offsets", async () => {
  await open("groups");
  await click("Add a member");
  await click("Add a member");
  await click("Produce 4 payments");
  await click("Members read 2 and commit");
  const owners = async () => page.locator("[data-testid='owners'] tr[data-p]").evaluateAll((rows) => rows.map((r) => [r.children[1].innerText, r.children[2].innerText]));
  const before = await owners();
  assert.deepEqual(new Set(before.map((o) => o[0])), new Set(["m1", "m2"]));
  const engine = await page.evaluate(() => window.playground.state.g.members().map((m) => m.partitions.length));
  assert.deepEqual(engine, [2, 2]);
  await click("Remove the last member");
  const after = await owners();
  assert.deepEqual(after.map((o) => o[0]), ["m1", "m1", "m1", "m1"]);
  assert.deepEqual(after.map((o) => o[1]), before.map((o) => o[1])); // committed offsets kept
  assert.equal(await text("members"), "m1");
  assert.match(await text("journal"), /rebalance payments group billing/);
  await click("Auditors each take one");
  assert.match(await page.locator(".card .log").innerText(), /auditor 1: P\d@\d/);
  await shot("4-groups");
});

test("consumer groups: a crashed member keeps its partitions until the session timeout; a paused partition waits", async () => {
  await open("groups");
  await click("Add a member");
  await click("Add a member");
  await click("Crash the last member");
  assert.equal(await text("members"), "m1, m2 (crashed)");
  const owners = async () => page.locator("[data-testid='owners'] tr[data-p]").evaluateAll((rows) => rows.map((r) => r.children[1].innerText));
  assert.deepEqual((await owners()).filter((o) => o === "m2 (crashed)").length, 2);
  await page.getByTestId("step5").click();
  assert.equal(await text("members"), "m1, m2 (crashed)"); // not yet
  await page.getByTestId("step5").click(); // 10 s: the session timeout removes m2
  assert.equal(await text("members"), "m1");
  assert.deepEqual(await owners(), ["m1", "m1", "m1", "m1"]);
  assert.match(await text("journal"), /leave payments group billing member 2 session_timeout/);
  assert.match(await text("journal"), /fault payments group billing member 2 crash/);
  await click("Pause / resume P0");
  assert.equal(await text("p0"), "paused");
  await click("Produce 4 payments");
  await click("Members read 2 and commit");
  await click("Members read 2 and commit");
  const lag = await page.evaluate(() => window.playground.state.g.lag());
  assert.equal(lag[0], 1); // P0 was not delivered
  assert.deepEqual(lag.slice(1), [0, 0, 0]);
  await click("Pause / resume P0");
  await click("Members read 2 and commit");
  assert.deepEqual(await page.evaluate(() => window.playground.state.g.lag()), [0, 0, 0, 0]);
  await shot("4-groups-faults");
});

test("event sourcing: the balance is rebuilt by replaying every event", async () => {
  await open("sourcing");
  for (const b of ["Deposit 10", "Deposit 10", "Withdraw 5", "Deposit 10"]) await click(b);
  await click("Rebuild by replay");
  assert.equal(await text("balance"), "25");
  await shot("5-sourcing");
});

test("CQRS: the read model lags the stream until the projection reads", async () => {
  await open("cqrs");
  await click("Command: place order");
  await click("Command: place order");
  assert.equal(await text("cqrs-lag"), "0"); // render ticks the projection
  const model = await page.getByTestId("readmodel").innerText();
  assert.match(model, /2\s+0\s+0/);
  await click("Command: pay oldest placed");
  await click("Command: ship oldest paid");
  assert.match(await page.getByTestId("readmodel").innerText(), /1\s+0\s+1/);
  await shot("6-cqrs");
});

test("stream processing: filter, map and count into tables, windows with grace, errors with their record", async () => {
  await open("processing");
  await click("View /home");
  await click("View /home");
  await click("View /cart");
  await click("Health check");
  assert.match(await text("views-by-page"), /\/cart\s+1\s+\/home\s+2/);
  assert.doesNotMatch(await text("views-by-page"), /health/);
  assert.match(await text("views-per-window"), /0–10 s\s+\/cart\s+1\s+0–10 s\s+\/home\s+2/);
  for (let i = 0; i < 5; i++) await page.getByTestId("step5").click();
  await click("View /cart");
  assert.match(await text("views-per-window"), /20–30 s\s+\/cart\s+1/);
  await click("Late view (15 s ago)"); // at 25 s for the window 10–20 s, closed at 22 s
  assert.equal(await text("dropped-late"), "1");
  await click("Broken event");
  assert.match(await text("stream-errors"), /a view without a page — record \{"page":null\}/);
  assert.match(await text("views-by-page"), /\/cart\s+2\s+\/home\s+3/); // the late view counts in the total
  const svg = await page.getByTestId("topology").innerHTML();
  assert.match(svg, /^<svg/);
  for (const n of ["drop-health-checks", "page", "by-page", "views-by-page", "views-per-10s"]) assert.ok(svg.includes(n), n);
  const inPage = await page.evaluate(() => window.playground.state.total.get("/home"));
  assert.equal(inPage, 3);
  await shot("7-processing");
});

test("data products: the catalog from the engine, a schema and the naming rule refuse, routing makes topics a pattern reads", async () => {
  await open("products");
  await click("Order from eu");
  await click("Order from us");
  await click("Order from eu");
  await click("Order without a total");
  assert.match(await text("refused"), /SchemaError at "" \(required\)/);
  await click("Create topic \"orders\"");
  assert.match(await text("refused"), /InvalidName: .*naming rule/);
  const catalog = await text("catalog");
  assert.match(catalog, /sales\.orders\.v1\s+sales\s+pii:none\s*tier:1\s+required: id, country, total\s+2\s+3/);
  assert.match(catalog, /group billing: lag 3/);
  assert.match(catalog, /sales\.orders-eu\.v1/);
  assert.match(catalog, /sales\.orders-us\.v1/);
  await click("analytics reads every country");
  assert.equal(await text("pattern-topics"), "sales.orders-eu.v1, sales.orders-us.v1");
  await click("Order from jp (a new country)"); // a topic made after the subscription
  await click("analytics reads every country");
  assert.match(await text("pattern-topics"), /sales\.orders-jp\.v1/);
  assert.match(await text("pattern-read"), /sales\.orders-jp\.v1@0/);
  await click("billing reads and commits");
  assert.match(await text("catalog"), /group billing: lag 0/);
  // What the page shows is the engine's catalog.
  const engine = await page.evaluate(() => window.playground.bus.catalog().map((c) => [c.name, c.records]));
  assert.deepEqual(engine, [["sales.orders-eu.v1", 2], ["sales.orders-jp.v1", 1], ["sales.orders-us.v1", 1], ["sales.orders.v1", 4]]);
  await shot("8-products");
  assert.deepEqual(errors, []);
});

test("REST vs events: with the service down the call is lost, the event waits and is processed on return", async () => {
  await open("rest");
  await click("Shipping: down / up");
  assert.equal(await text("service"), "down");
  await click("Place order via REST");
  await click("Place order via event");
  await click("Place order via event");
  assert.match(await text("rest"), /503, lost/);
  assert.equal(await text("waiting"), "2");
  assert.equal(await text("shipped"), "—");
  await click("Shipping: down / up");
  assert.equal(await text("waiting"), "0");
  assert.match(await text("shipped"), /e2\s*e3/);
  await shot("9-rest");
});

test("time controls step the manual clock; the tour's Next walks every lesson; phone width works", async () => {
  await open("stream");
  await page.getByTestId("step").click();
  assert.equal(await text("now"), "1.0");
  assert.equal(await page.evaluate(() => window.playground.bus.now), 1000);
  await page.getByTestId("play").click();
  await page.waitForFunction(() => window.playground.bus.now > 1200);
  await page.getByTestId("play").click();
  const seen = [];
  for (let i = 0; i < 9; i++) {
    seen.push(await page.evaluate(() => window.playground.lesson));
    await page.getByTestId("next").click();
  }
  assert.deepEqual(seen, ["stream", "broker", "queue", "groups", "sourcing", "cqrs", "processing", "products", "rest"]);
  await page.setViewportSize({ width: 390, height: 844 });
  await open("groups");
  await click("Add a member");
  await click("Produce 4 payments");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at phone width`);
  await shot("10-phone");
  await page.setViewportSize({ width: 1400, height: 900 });
  assert.deepEqual(errors, []);
});

test("the browser build checks JSON Schemas (the bundled validator compiles in the page)", async () => {
  await open("stream");
  const got = await page.evaluate(() => {
    const bus = new window.playground.bus.constructor();
    const t = bus.topic("orders", { schema: { type: "object", properties: { total: { type: "number", minimum: 0 } }, required: ["total"] } });
    t.publish({ total: 3 });
    const out = [];
    for (const v of [{ total: -1 }, {}]) {
      try { t.publish(v); } catch (e) { out.push([e.name, e.path, e.rule]); }
    }
    out.push(t.endOffsets()[0]);
    bus.free();
    return out;
  });
  assert.deepEqual(got, [["SchemaError", "/total", "minimum"], ["SchemaError", "", "required"], 1]);
  assert.deepEqual(errors, []);
});

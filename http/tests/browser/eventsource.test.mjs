// A page in headless Chromium (Debian's, driven by playwright-core) follows a
// topic of the ringlet-http binary with EventSource while records are
// published; the server is killed (-9) and started again on the same data
// directory, and the page's EventSource resumes with Last-Event-ID without
// losing or repeating a record.
//
//   RINGLET_HTTP_BIN=target/debug/ringlet-http node --test http/tests/browser/
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { once } from "node:events";
import net from "node:net";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const { chromium } = createRequire(join(repo, "bindings-wasm", "package.json"))("playwright-core");
const bin = process.env.RINGLET_HTTP_BIN ?? join(repo, "target", "debug", "ringlet-http");

async function freePort() {
  const s = net.createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const { port } = s.address();
  s.close();
  await once(s, "close");
  return port;
}

async function startServer(port, dataDir, origin) {
  const child = spawn(bin, ["--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, "--cors-origin", origin], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  for await (const chunk of child.stdout) {
    out += chunk;
    if (out.includes("serving on")) break;
  }
  assert.match(out, /serving on/);
  return child;
}

async function post(url, body) {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await r.text();
  assert.ok(r.ok, `${url}: ${r.status} ${text}`);
  return JSON.parse(text);
}

test("EventSource follows a topic and resumes after the server is killed", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "ringlet-http-sse-"));
  const apiPort = await freePort();
  const api = `http://127.0.0.1:${apiPort}`;
  const page_ = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<!doctype html><meta charset="utf-8"><title>follow</title><pre id="log"></pre>
<script>
  window.got = []; window.ids = []; window.opened = 0;
  const es = new EventSource(${JSON.stringify(api)} + "/v3/clusters/ringlet/topics/clicks/events?from=earliest");
  es.onopen = () => { window.opened++; };
  es.addEventListener("record", (e) => {
    const r = JSON.parse(e.data);
    window.got.push(r.value.n);
    window.ids.push(e.lastEventId);
    document.getElementById("log").textContent += r.offset + ": " + JSON.stringify(r.value) + "\\n";
  });
</script>`);
  }).listen(0, "127.0.0.1");
  await once(page_, "listening");
  const origin = `http://127.0.0.1:${page_.address().port}`;
  let server = await startServer(apiPort, dataDir, origin);
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "ringlet-http-chromium-")), {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    await post(`${api}/v3/clusters/ringlet/topics`, { topic_name: "clicks", configs: [{ name: "ringlet.capacity", value: "1000" }] });
    const page = await ctx.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.opened === 1);
    for (let n = 0; n < 5; n++) await post(`${api}/v3/clusters/ringlet/topics/clicks/records`, { value: { data: { n } } });
    await page.waitForFunction(() => window.got.length === 5, null, { timeout: 10_000 });
    assert.equal(await page.evaluate(() => window.ids.at(-1)), "0:4");

    server.kill("SIGKILL");
    await once(server, "exit");
    server = await startServer(apiPort, dataDir, origin);
    for (let n = 5; n < 10; n++) await post(`${api}/v3/clusters/ringlet/topics/clicks/records`, { value: { data: { n } } });
    await page.waitForFunction(() => window.got.length >= 10, null, { timeout: 15_000 });
    await new Promise((r) => setTimeout(r, 300)); // anything repeated would arrive now
    assert.deepEqual(await page.evaluate(() => window.got), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(await page.evaluate(() => window.opened), 2, "the EventSource reconnected once");
    assert.equal(await page.evaluate(() => window.ids.at(-1)), "0:9");
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(tmpdir(), "ringlet-http-eventsource.png") });
  } finally {
    await ctx.close();
    server.kill("SIGKILL");
    page_.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

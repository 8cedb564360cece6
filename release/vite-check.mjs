// Builds the scratch Vite app that installed the packed tarball, serves its
// dist/ on 127.0.0.1 and opens it in headless Chromium, where it publishes and
// reads a record.
//   node vite-check.mjs <scratch app folder> <playwright-core folder>
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";

const [app, playwright] = process.argv.slice(2);
execFileSync(join(app, "node_modules/.bin/vite"), ["build", "--logLevel", "warn"], { cwd: app, stdio: "inherit" });

const root = join(app, "dist");
const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
  try {
    const body = readFileSync(join(root, path === "/" ? "index.html" : path));
    res.writeHead(200, { "content-type": types[extname(path) || ".html"] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${server.address().port}/`;

const { chromium } = await import(join(playwright, "index.mjs"));
const profile = mkdtempSync(join(tmpdir(), "ringlet-vite-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector("#out").textContent !== "loading", null, { timeout: 30000 });
  const text = await page.textContent("#out");
  assert.deepEqual(errors, []);
  const got = JSON.parse(text);
  assert.deepEqual(got.value, { id: 42 });
  assert.deepEqual([got.partition, got.offset], [got.receipt.partition, got.receipt.offset]);
  console.log(`Vite build of the package ran in Chromium: ${text}`);
} finally {
  await browser.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}

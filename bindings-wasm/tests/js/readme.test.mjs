// The README's JS examples run in Node as written (with Node's import of the
// package), on the manual clock and on the system clock, and the process exits by
// itself: no timer is left armed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { tmpdir } from "node:os";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const pkg = join(root, "bindings-wasm/pkg/node/ringlet_wasm.js");
const blocks = [...readFileSync(join(root, "README.md"), "utf8").matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);

function inNode(code) {
  const head = `import { createRequire } from "node:module";\nconst { Bus } = createRequire(import.meta.url)(${JSON.stringify(pkg)});\n`;
  return head + code.replace(/^import .* from "ringlet";.*$/m, "").replace(/^await init\(\);.*$/m, "");
}

test("the README has JS examples", () => assert.ok(blocks.length >= 2));

blocks.forEach((code, n) => {
  for (const clock of ["as written", "system"]) {
    test(`README JS example ${n + 1} runs and exits (${clock} clock)`, () => {
      let src = inNode(code);
      if (clock === "system") {
        src = src.replace(/\{ clock: "manual"(, )?/g, "{ ").replace(/^bus\.advance\(.*$/gm, "");
      }
      const file = join(mkdtempSync(join(tmpdir(), "ringlet-readme-")), "example.mjs");
      writeFileSync(file, src);
      // Throws (failing the test) on an error, or if it has not exited in 20 s.
      execFileSync(process.execPath, [file], { timeout: 20_000, stdio: ["ignore", "ignore", "pipe"] });
    });
  }
});

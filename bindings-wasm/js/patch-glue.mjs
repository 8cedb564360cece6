// Makes the glue wasm-bindgen generated safe for calls on freed objects and for
// arguments of the wrong class: such calls throw a typed error in JS, before any
// WASM frame runs (a throw from inside WASM would leak its stack).
//   node patch-glue.mjs <glue.js>...
import { readFileSync, writeFileSync } from "node:fs";

const helpers = `
function __ringletLive(obj) {
    const ptr = obj == null ? 0 : obj.__wbg_ptr;
    if (typeof ptr !== "number" || ptr === 0) {
        const what = obj != null && obj.constructor && obj.constructor.name !== "Object" ? obj.constructor.name : "object";
        const e = new Error(\`this \${what} was freed (free() was called, or it was given away): make a new one\`);
        e.name = "Closed";
        throw e;
    }
    return ptr;
}
`;

for (const file of process.argv.slice(2)) {
  let s = readFileSync(file, "utf8");
  if (s.includes("function __ringletLive(")) continue;
  const before = s;
  // Every handle passed to WASM is checked first.
  s = s.replace(/([(,] ?)(this|[a-z][A-Za-z0-9_]*)\.__wbg_ptr(?=[,)])/g, "$1__ringletLive($2)");
  // free() twice is a no-op, as for any disposable.
  s = s.replace(
    /const ptr = this\.__destroy_into_raw\(\);\n(\s+)wasm\.(__wbg_\w+_free)\(ptr, 0\);/g,
    "const ptr = this.__destroy_into_raw();\n$1if (ptr !== 0) wasm.$2(ptr, 0);",
  );
  // A wrong-class argument is a TypeError naming what was expected.
  s = s.replace(
    /throw new Error\(`expected instance of \$\{klass\.name\}`\);/,
    "throw new TypeError(`expected a ${klass.name}, not ${instance === null ? \"null\" : Array.isArray(instance) ? \"an array\" : typeof instance === \"object\" ? \"another object\" : \"a \" + typeof instance}`);",
  );
  if (s === before) throw new Error(`${file}: nothing to patch (has the glue changed?)`);
  for (const must of ["__ringletLive(this)", "if (ptr !== 0) wasm.", "new TypeError(`expected a "]) {
    if (!s.includes(must)) throw new Error(`${file}: the glue no longer has what is patched (${must})`);
  }
  // After the imports (ES module) or at the top (CommonJS).
  const lines = s.split("\n");
  let at = 0;
  while (at < lines.length && (lines[at].startsWith("import ") || lines[at].startsWith("/*"))) at++;
  lines.splice(at, 0, helpers);
  writeFileSync(file, lines.join("\n"));
}

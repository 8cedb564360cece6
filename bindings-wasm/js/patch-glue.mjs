// Makes the glue wasm-bindgen generated safe for calls on freed objects and for
// arguments of the wrong class: such calls throw a typed error in JS, before any
// WASM frame runs (a throw from inside WASM would leak its stack). Exports the
// error classes (defined in js/glue.js, the package's one snippet) from the package.
//   node patch-glue.mjs <glue.js>...
import { readFileSync, writeFileSync, readdirSync } from "node:fs";
import { dirname, join, sep } from "node:path";

/// The snippet defining the error classes, relative to the glue, and its classes.
function errorClasses(glue) {
  const root = join(dirname(glue), "snippets");
  const files = readdirSync(root, { recursive: true }).filter((f) => f.endsWith(".js"));
  for (const f of files) {
    const text = readFileSync(join(root, f), "utf8");
    if (text.includes("export class RingletError")) {
      const names = ["RingletError", ...[...text.matchAll(/export const (\w+) = kind\(/g)].map((m) => m[1])];
      return { path: `./snippets/${f.split(sep).join("/")}`, names };
    }
  }
  throw new Error(`${glue}: no snippet defines the error classes`);
}

const helper = `
function __ringletLive(obj) {
    const ptr = obj == null ? 0 : obj.__wbg_ptr;
    if (typeof ptr !== "number" || ptr === 0) {
        const what = obj != null && obj.constructor && obj.constructor.name !== "Object" ? obj.constructor.name : "object";
        throw new __RingletClosed(\`this \${what} was freed (free() was called, or it was given away): make a new one\`);
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
    "throw new TypeError(`expected a ${klass.name}, not ${instance == null ? String(instance) : Array.isArray(instance) ? \"an array\" : typeof instance === \"object\" ? \"another object\" : \"a \" + typeof instance}`);",
  );
  if (s === before) throw new Error(`${file}: nothing to patch (has the glue changed?)`);
  for (const must of ["__ringletLive(this)", "if (ptr !== 0) wasm.", "new TypeError(`expected a "]) {
    if (!s.includes(must)) throw new Error(`${file}: the glue no longer has what is patched (${must})`);
  }
  // Faults.crash(target): one method for the three kinds of consumer (the
  // classes are in scope here, not in the Rust side).
  s += `
Faults.prototype.crash = function crash(target) {
    if (target instanceof Member) return this.crashMember(target);
    if (target instanceof ShareMember) return this.crashShareMember(target);
    if (target instanceof Delivery) return this.crashDelivery(target);
    const what = target == null ? String(target) : typeof target === "object" ? (target.constructor && target.constructor.name !== "Object" ? "a " + target.constructor.name : "another object") : "a " + typeof target;
    throw new TypeError(\`crash() takes a Member, a ShareMember or a Delivery, not \${what}\`);
};
`;
  const esm = /^export class /m.test(s);
  const { path, names } = errorClasses(file);
  const head = esm
    ? `import { Closed as __RingletClosed } from "${path}";\nexport { ${names.join(", ")} } from "${path}";\n`
    : `const __ringletErrors = require("${path}");\nconst __RingletClosed = __ringletErrors.Closed;\n` +
      names.map((n) => `exports.${n} = __ringletErrors.${n};`).join("\n") + "\n";
  // After the imports (ES module) or at the top (CommonJS).
  const lines = s.split("\n");
  let at = 0;
  while (at < lines.length && (lines[at].startsWith("import ") || lines[at].startsWith("/*"))) at++;
  lines.splice(at, 0, head + helper);
  writeFileSync(file, lines.join("\n"));
  // The classes in the types.
  const dts = file.replace(/\.js$/, ".d.ts");
  const decl = [
    "/** Every error the engine throws is a RingletError; its class (and `name`) is the contract's name. */",
    "export class RingletError extends Error {}",
    ...names.filter((n) => n !== "RingletError").map((n) => `export class ${n} extends RingletError {}`),
  ].join("\n");
  const crash = "/** Crashes a consumer without leaving or settling (see crashMember, crashShareMember, crashDelivery); whether it was still running. */\n    crash(target: Member | ShareMember | Delivery): boolean;\n";
  let types = readFileSync(dts, "utf8");
  const faultsAt = types.indexOf("export class Faults {");
  if (faultsAt < 0) throw new Error(`${dts}: no Faults class to add crash() to`);
  const body = types.indexOf("free(): void;\n", faultsAt);
  types = types.slice(0, body) + crash + "    " + types.slice(body);
  writeFileSync(dts, types + "\n" + decl + "\n");
}

// JSON Schema checks for schema.rs, with Ajv (drafts 4, 6, 7, 2019-09 and
// 2020-12). The package build bundles Ajv into this file, so the package has no
// runtime dependency.
import Ajv from "ajv";
import Ajv2019 from "ajv/dist/2019.js";
import Ajv2020 from "ajv/dist/2020.js";
import AjvDraft04 from "ajv-draft-04";
import draft06 from "ajv/dist/refs/json-schema-draft-06.json";

// As in Rust and Python: unknown keywords are ignored, `format` is an
// annotation, the first error found is reported.
const OPTIONS = { strict: false, logger: false, allErrors: false, validateFormats: false };

const DRAFTS = [
  ["draft-04", () => new AjvDraft04(OPTIONS)],
  ["draft-06", () => new Ajv(OPTIONS).addMetaSchema(draft06)],
  ["draft-07", () => new Ajv(OPTIONS)],
  ["2019-09", () => new Ajv2019(OPTIONS)],
  ["2020-12", () => new Ajv2020(OPTIONS)],
];
const made = new Map();

function ajvFor(uri) {
  const found = DRAFTS.find(([tag]) => uri.includes(tag));
  if (found === undefined) throw new Error(`its $schema names a draft that is not known: ${uri}`);
  const [tag, make] = found;
  if (!made.has(tag)) made.set(tag, make());
  return made.get(tag);
}

// A compiled check, or a thrown Error saying why `doc` is not a schema.
export function compileSchema(doc) {
  const uri = typeof doc === "object" && doc !== null && typeof doc.$schema === "string" ? doc.$schema : "2020-12";
  const ajv = ajvFor(uri);
  let check;
  try {
    check = ajv.compile(doc);
  } catch (e) {
    const m = String(e?.message ?? e);
    throw new Error(/unsafe-eval|Content Security Policy|EvalError/.test(m) || e instanceof EvalError
      ? `schemas are compiled to functions, which this page's Content Security Policy forbids (allow 'unsafe-eval'): ${m}`
      : m);
  } finally {
    // Each topic keeps its own compiled check: the same `$id` on two topics is fine.
    ajv.removeSchema(doc);
  }
  return check;
}

// `null` when `value` matches, else `[path, rule, message]`. With several
// errors (the branches of an `anyOf`, then the `anyOf`), the last one is the
// rule the value breaks where it stands.
export function checkSchema(check, value) {
  if (check(value)) return null;
  const errors = check.errors ?? [];
  const e = errors[errors.length - 1];
  if (e === undefined) return ["", "false", "the value does not match the schema"];
  const rule = e.keyword === "false schema" ? "false" : e.keyword;
  return [e.instancePath, rule, String(e.message)];
}

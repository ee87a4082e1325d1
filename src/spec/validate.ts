// Schema validation of the OCI documents runts reads or writes: config.json, exec's process.json,
// the container state and the runtime features. The validators are precompiled at
// build time (scripts/build-validators.ts, from schemas/*.schema.json); this module
// turns their first error into one readable line:
//
//   config.json: /process/args: must be array
//   config.json: /linux/namespaces/0/type: must be one of pid, network, ... (got "foo")
//   config.json: /: missing required property "ociVersion"
//
// Pure functions, no I/O.
import {
  validateConfig,
  validateFeatures,
  validateProcess,
  validateState,
  type ValidationError,
  type Validator,
} from "./generated/validators.js";

export type SpecDocument = "config" | "state" | "features" | "process";

const validators: Record<SpecDocument, { validate: Validator; label: string }> = {
  config: { validate: validateConfig, label: "config.json" },
  state: { validate: validateState, label: "state" },
  features: { validate: validateFeatures, label: "features" },
  process: { validate: validateProcess, label: "process.json" },
};

/** null if `data` is a valid config.json document, else one line describing the first problem. */
export function checkConfig(data: unknown): string | null {
  return check("config", data);
}

/** null if `data` is a valid container state document, else one line describing the first problem. */
export function checkState(data: unknown): string | null {
  return check("state", data);
}

/** null if `data` is a valid features document, else one line describing the first problem. */
export function checkFeatures(data: unknown): string | null {
  return check("features", data);
}

export type ParseResult = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Parses JSON text and validates it as `doc`. Syntax errors are reported in the same
 * one-line format as schema errors, e.g. `config.json: /: invalid JSON: ...`.
 */
export function parseAndCheck(doc: SpecDocument, text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return { ok: false, error: `${validators[doc].label}: /: invalid JSON: ${oneLine(reason)}` };
  }
  const error = check(doc, value);
  return error === null ? { ok: true, value } : { ok: false, error };
}

function check(doc: SpecDocument, data: unknown): string | null {
  const { validate, label } = validators[doc];
  if (validate(data)) return null;
  const errors = validate.errors ?? [];
  if (errors.length === 0) return `${label}: /: invalid document`;
  const { path, problem } = describe(errors, data);
  return `${label}: ${path}: ${problem}`;
}

/** Picks the error worth reporting (ajv lists branch errors before their combinator). */
function describe(all: ValidationError[], data: unknown): { path: string; problem: string } {
  // "if" only says that the "then"/"else" branch failed; that branch's error precedes it.
  const errors = all.filter((e) => e.keyword !== "if");
  const first = errors[0] ?? all[0]!;

  const names = errors.find((e) => e.keyword === "propertyNames");
  if (names) {
    const inner = errors.find((e) => e !== names && e.instancePath === names.instancePath);
    const name = JSON.stringify(String(names.params.propertyName ?? ""));
    // The inner error describes the name itself; drop its "(got ...)" since the name is quoted already.
    const why = inner ? problemOf(inner, names.params.propertyName).replace(/ \(got .*\)$/, "") : "is not allowed";
    return { path: pointer(names.instancePath), problem: `property name ${name} ${why}` };
  }

  const anyOf = errors.find((e) => e.keyword === "anyOf" || e.keyword === "oneOf");
  if (anyOf) {
    const branches = errors.filter((e) => e !== anyOf && e.instancePath === anyOf.instancePath);
    if (branches.length > 0 && branches.every((e) => e.keyword === "required")) {
      const props = branches.map((e) => JSON.stringify(String(e.params.missingProperty))).join(", ");
      return { path: pointer(anyOf.instancePath), problem: `must have at least one of the properties ${props}` };
    }
    const inner = errors.find((e) => e !== anyOf);
    if (inner && inner.keyword !== "anyOf" && inner.keyword !== "oneOf") {
      return { path: pointer(inner.instancePath), problem: problemOf(inner, valueAt(data, inner.instancePath)) };
    }
    return { path: pointer(anyOf.instancePath), problem: "does not match any of the allowed forms" };
  }

  return { path: pointer(first.instancePath), problem: problemOf(first, valueAt(data, first.instancePath)) };
}

function problemOf(e: ValidationError, value: unknown): string {
  const p = e.params;
  switch (e.keyword) {
    case "required":
      return `missing required property ${JSON.stringify(String(p.missingProperty))}`;
    case "dependencies":
      return `property ${JSON.stringify(String(p.missingProperty))} is required when ${JSON.stringify(String(p.property))} is present`;
    case "type": {
      const types = Array.isArray(p.type) ? p.type : String(p.type).split(",");
      return `must be ${types.join(" or ")}`;
    }
    case "enum": {
      const allowed = Array.isArray(p.allowedValues) ? p.allowedValues : [];
      return `must be one of ${allowed.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ")} (got ${show(value)})`;
    }
    case "const":
      return `must be ${show(p.allowedValue)} (got ${show(value)})`;
    case "pattern": {
      const what = PATTERNS[String(p.pattern)] ?? `must match the pattern ${JSON.stringify(String(p.pattern))}`;
      return `${what} (got ${show(value)})`;
    }
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return `must be ${String(p.comparison)} ${bound(p.limit)} (got ${show(value)})`;
    case "minItems":
      return `must have at least ${String(p.limit)} item${p.limit === 1 ? "" : "s"}`;
    case "maxItems":
      return `must have at most ${String(p.limit)} item${p.limit === 1 ? "" : "s"}`;
    default:
      return e.message ?? `fails the "${e.keyword}" rule`;
  }
}

/** Readable descriptions of the patterns used in schemas/*.schema.json. */
const PATTERNS: Record<string, string> = {
  "^/": "must be an absolute path",
  "^[\\s\\S]+$": "must not be empty",
  "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(\\.(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*)?(\\+[0-9a-zA-Z-]+(\\.[0-9a-zA-Z-]+)*)?$":
    'must be a SemVer 2.0.0 version such as "1.2.0"',
  "^RLIMIT_[A-Z]+$": "must be an RLIMIT_* resource name",
  "^[1-9][0-9]*[KMG]B$": 'must be a page size such as "64KB", "2MB" or "1GB"',
  "^[rwm]*$": "must be a combination of r, w and m",
  "^MB:[^\\n]*$": 'must start with "MB:" and be a single line',
  "^\\s*([0-9]+\\s*(-\\s*[0-9]+\\s*)?(,\\s*[0-9]+\\s*(-\\s*[0-9]+\\s*)?)*)?$":
    'must be a CPU list such as "0-3,7"',
  "^CAP_[A-Z0-9_]+$": "must be a CAP_* capability name",
};

/** Integer bounds the schemas use that doubles cannot print exactly. */
function bound(limit: unknown): string {
  if (limit === 2 ** 64) return "18446744073709551615";
  if (limit === 2 ** 63) return "9223372036854775807";
  if (limit === -(2 ** 63)) return "-9223372036854775808";
  return String(limit);
}

function show(value: unknown): string {
  let s: string;
  try {
    s = value === undefined ? "nothing" : (JSON.stringify(value) ?? String(value));
  } catch {
    s = String(value);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function pointer(instancePath: string): string {
  return instancePath === "" ? "/" : instancePath;
}

function valueAt(data: unknown, instancePath: string): unknown {
  if (instancePath === "") return data;
  let cur: unknown = data;
  for (const raw of instancePath.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}

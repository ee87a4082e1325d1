import { posix } from "node:path";
import { ConfigError, errnoOf, RuntsError } from "../errors.ts";
import { readlink, readText } from "../libc.ts";
import type { SeccompSpec, Spec } from "./types.ts";
import { checkConfig } from "./validate.ts";

/** Reads and validates <bundle>/config.json. Errors name the file and the JSON path. */
export function loadSpec(bundle: string): Spec {
  const file = posix.join(bundle, "config.json");
  let text: string;
  try {
    text = readText(file);
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === 2) throw new RuntsError("read bundle", file, errno, danglingTarget(file) ?? "the bundle has no config.json");
    throw new RuntsError("read bundle config", file, errno);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`not valid JSON: ${(err as Error).message}`);
  }
  const problem = checkConfig(data);
  if (problem) throw new ConfigError(problem.replace(/^config\.json: /, ""));
  const spec = data as Spec;
  if (spec.linux?.seccomp && hasRoundedArgs(spec.linux.seccomp)) spec.linux.seccomp = exactSeccomp(text);
  return spec;
}

/** Whether a seccomp argument value is beyond 2^53, where JSON.parse rounds. */
function hasRoundedArgs(s: SeccompSpec): boolean {
  return (s.syscalls ?? []).some((c) => (c.args ?? []).some((a) => !Number.isSafeInteger(a.value) || !Number.isSafeInteger(a.valueTwo ?? 0)));
}

/** linux.seccomp parsed again, its large argument values as exact bigints (from the source text). */
function exactSeccomp(text: string): SeccompSpec {
  const exact = (key: string, v: unknown, ctx?: { source?: string }): unknown =>
    (key === "value" || key === "valueTwo") && typeof v === "number" && !Number.isSafeInteger(v) && ctx?.source && /^\d+$/.test(ctx.source)
      ? BigInt(ctx.source)
      : v;
  return (JSON.parse(text, exact as (k: string, v: unknown) => unknown) as Spec).linux!.seccomp!;
}

function danglingTarget(file: string): string | undefined {
  try {
    return `config.json is a symlink to ${JSON.stringify(readlink(file))}, which does not exist`;
  } catch {
    return undefined;
  }
}

import { posix } from "node:path";
import { ConfigError, errnoOf, RuntsError } from "../errors.ts";
import { readlink, readText } from "../libc.ts";
import type { Spec } from "./types.ts";
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
  return data as Spec;
}

function danglingTarget(file: string): string | undefined {
  try {
    return `config.json is a symlink to ${JSON.stringify(readlink(file))}, which does not exist`;
  } catch {
    return undefined;
  }
}

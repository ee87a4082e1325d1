/**
 * The call forms managers use on their runtime: an argv with its values abstracted
 * (`--root <v> --log <v> --log-format json create --bundle <v> --pid-file <v> <arg>`). The
 * manager suites check that every form they saw is in test/unit/data/manager-argv/<suite>.json
 * (one file per test file, keyed by manager), which test/unit/manager-argv.test.ts parses with
 * runts's own flag parser. RUNTS_RECORD_ARGV=1 adds the forms seen to that file instead
 * (commit the result).
 */
import { expect } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { splitCommandLine } from "../../src/cli/argv";
import { COMMANDS, GLOBAL_FLAGS } from "../../src/cli/commands";
import type { FlagSpec } from "../../src/cli/flags";
import { REPO } from "./harness";
import type { RecordedCall } from "./managers";

export const ARGV_DATA = path.join(REPO, "test/unit/data/manager-argv");

/** One recorded form and an argv that showed it (sandbox paths normalized). */
export interface RecordedForm {
  form: string;
  argv: string[];
}
export type ArgvData = Record<string, RecordedForm[]>;

/** Values kept as they are in a form: signals, and the literal values managers pass for formats. */
const LITERAL = /^(SIG)?[A-Z][A-Z0-9]*$|^\d+$|^(json|text|true|false)$/;

function abstractArgs(args: string[], specs: FlagSpec[], out: string[]): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith("-") && a !== "-" && a !== "--") {
      const eq = a.indexOf("=");
      if (eq > 0) {
        const v = a.slice(eq + 1);
        out.push(`${a.slice(0, eq)}=${LITERAL.test(v) ? v : "<v>"}`);
        continue;
      }
      out.push(a);
      const name = a.replace(/^--?/, "");
      const spec = specs.find((f) => f.name === name || f.alias?.includes(name));
      if (spec && spec.type !== "boolean" && i + 1 < args.length) {
        const v = args[++i]!;
        out.push(LITERAL.test(v) ? v : "<v>");
      }
      continue;
    }
    out.push(LITERAL.test(a) ? a : "<arg>");
  }
}

/** The form of one runtime argv (without argv[0]). */
export function formOf(argv: string[]): string {
  const line = splitCommandLine(argv);
  const out: string[] = [];
  abstractArgs(line.global, GLOBAL_FLAGS, out);
  if (line.name !== undefined) {
    out.push(line.name);
    abstractArgs(line.rest, COMMANDS.find((c) => c.name === line.name)?.flags ?? [], out);
  }
  return out.join(" ");
}

const dataFile = (suite: string) => path.join(ARGV_DATA, `${suite}.json`);

function readSuite(suite: string): ArgvData {
  return existsSync(dataFile(suite)) ? (JSON.parse(readFileSync(dataFile(suite), "utf8")) as ArgvData) : {};
}

/** Every recorded form, by manager, over all suites. */
export function readArgvData(): ArgvData {
  const all: ArgvData = {};
  for (const f of readdirSync(ARGV_DATA).filter((n) => n.endsWith(".json")).sort()) {
    for (const [manager, forms] of Object.entries(readSuite(f.slice(0, -5)))) (all[manager] ??= []).push(...forms);
  }
  return all;
}

const normalize = (argv: string[]) => argv.map((a) => a.replace(/\/tmp\/runts-mgr-[A-Za-z0-9-]+?-[A-Za-z0-9]{6}(?=\/|$)/g, "/tmp/runts-mgr-SANDBOX"));

/** Expects every form `manager` made in `calls` to be recorded for suite (or records them, see above). */
export function expectCoveredForms(suite: string, manager: string, calls: RecordedCall[]): void {
  const data = readSuite(suite);
  const known = new Map((data[manager] ?? []).map((f) => [f.form, f]));
  const seen = new Map<string, string[]>();
  for (const c of calls) {
    const form = formOf(c.argv);
    if (!seen.has(form)) seen.set(form, c.argv);
  }
  if (process.env.RUNTS_RECORD_ARGV === "1") {
    for (const [form, argv] of seen) if (!known.has(form)) known.set(form, { form, argv: normalize(argv) });
    data[manager] = [...known.values()].sort((a, b) => a.form.localeCompare(b.form));
    mkdirSync(ARGV_DATA, { recursive: true });
    writeFileSync(dataFile(suite), `${JSON.stringify(data, null, 2)}\n`);
    return;
  }
  expect(seen.size).toBeGreaterThan(0);
  const missing = [...seen.keys()].filter((f) => !known.has(f));
  expect(missing).toEqual([]);
}

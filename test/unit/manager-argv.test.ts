/**
 * Every call form podman, containerd's runc v2 shim and docker were seen to make on their runtime
 * (recorded by the manager suites into data/manager-argv/*.json, see test/lib/manager-argv.ts),
 * parsed with runts's own command-line parser: the command is known, every flag is accepted
 * with the value the manager gave, and the positionals are the container id (and signal).
 */
import { describe, expect, test } from "bun:test";
import { splitCommandLine } from "../../src/cli/argv.ts";
import { COMMANDS, GLOBAL_FLAGS } from "../../src/cli/commands.ts";
import { type FlagSpec, type FlagValues, parseFlags } from "../../src/cli/flags.ts";
import { parseSignal } from "../../src/cli/signals.ts";
import { formOf, readArgvData } from "../lib/manager-argv.ts";

const data = readArgvData();

/** The flag values an argv gives, read off the argv itself (`--x v`, `--x=v`, a lone boolean `--x`). */
function givenFlags(args: string[], specs: FlagSpec[]): { flags: FlagValues; positionals: string[] } {
  const flags: FlagValues = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-")) {
      positionals.push(a);
      continue;
    }
    const [raw, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const spec = specs.find((f) => f.name === raw.replace(/^--?/, "") || f.alias?.includes(raw.replace(/^--?/, "")));
    expect(spec, `flag ${raw}`).toBeDefined();
    const value = spec!.type === "boolean" ? (inline ?? "true") === "true" : (inline ?? args[++i]!);
    flags[spec!.name] = spec!.type === "number" ? Number(value) : value;
  }
  return { flags, positionals };
}

describe("manager call forms parse as the manager meant them", () => {
  test("forms were recorded for podman, containerd and docker", () => {
    for (const m of ["podman", "containerd", "docker"]) {
      const commands = new Set((data[m] ?? []).map((f) => splitCommandLine(f.argv).name));
      for (const c of ["create", "start", "kill", "delete", "pause", "resume"]) expect([m, commands.has(c)]).toEqual([m, true]);
    }
  });

  for (const [manager, forms] of Object.entries(data)) {
    for (const { form, argv } of forms) {
      test(`${manager}: ${form}`, () => {
        expect(formOf(argv)).toBe(form);
        const line = splitCommandLine(argv);
        const global = parseFlags(line.global, GLOBAL_FLAGS);
        const wantGlobal = givenFlags(line.global, GLOBAL_FLAGS);
        expect(wantGlobal.positionals).toEqual([]);
        for (const [k, v] of Object.entries(wantGlobal.flags)) expect([k, global.flags[k]]).toEqual([k, v]);

        const cmd = COMMANDS.find((c) => c.name === line.name);
        expect(cmd?.name).toBe(line.name!);
        const parsed = parseFlags(line.rest, cmd!.flags, cmd!.stopAtPositional);
        const want = givenFlags(line.rest, cmd!.flags);
        for (const [k, v] of Object.entries(want.flags)) expect([k, parsed.flags[k]]).toEqual([k, v]);
        expect(parsed.positionals).toEqual(want.positionals);
        expect(parsed.positionals[0]).toMatch(/^[\w.-]+$/);
        if (cmd!.name === "kill") {
          expect(parsed.positionals).toHaveLength(2);
          expect(parseSignal(parsed.positionals[1]!)).toBeGreaterThan(0);
        } else {
          expect(parsed.positionals).toHaveLength(1);
        }
      });
    }
  }
});

import { describe, expect, test } from "bun:test";
import { COMMANDS, GLOBAL_FLAGS } from "../../src/cli/commands.ts";
import { parseFlags, UsageError } from "../../src/cli/flags.ts";
import { parseSignal } from "../../src/cli/signals.ts";
import { constants } from "node:os";

const flagsOf = (name: string) => COMMANDS.find((c) => c.name === name)!.flags;

describe("parseFlags", () => {
  test("runc call forms: --flag value, --flag=value, single-dash long names, short aliases", () => {
    const create = flagsOf("create");
    expect(parseFlags(["--bundle", "/b", "--pid-file=/p", "id1"], create)).toEqual({
      flags: { bundle: "/b", "pid-file": "/p", "preserve-fds": 0 },
      positionals: ["id1"],
    });
    expect(parseFlags(["-bundle", "/b", "id1"], create).flags.bundle).toBe("/b");
    expect(parseFlags(["-b", "/b", "id1"], create).flags.bundle).toBe("/b");
    expect(parseFlags(["id1", "--no-pivot"], create).flags["no-pivot"]).toBe(true);
  });

  test("booleans take =true/=false and nothing else", () => {
    const del = flagsOf("delete");
    expect(parseFlags(["--force=false", "x"], del).flags.force).toBe(false);
    expect(parseFlags(["-f", "x"], del).flags.force).toBe(true);
    expect(() => parseFlags(["--force=yes", "x"], del)).toThrow(UsageError);
  });

  test("numbers are checked", () => {
    expect(parseFlags(["--preserve-fds", "2", "x"], flagsOf("create")).flags["preserve-fds"]).toBe(2);
    for (const bad of ["two", "-1", "1.5", "", "0x3"]) {
      expect(() => parseFlags(["--preserve-fds", bad, "x"], flagsOf("create"))).toThrow(UsageError);
      expect(() => parseFlags([`--preserve-fds=${bad}`, "x"], flagsOf("run"))).toThrow(/--preserve-fds takes a non-negative whole number/);
    }
  });

  test("unknown flags and missing values are usage errors", () => {
    expect(() => parseFlags(["--nope", "x"], flagsOf("start"))).toThrow(/unknown flag --nope/);
    expect(() => parseFlags(["--bundle"], flagsOf("create"))).toThrow(/needs a value/);
  });

  test("`--` ends flags; stopAtPositional keeps a command line intact", () => {
    expect(parseFlags(["--", "-x"], flagsOf("start")).positionals).toEqual(["-x"]);
    expect(parseFlags(["--format", "json", "id", "-ef", "--x"], flagsOf("ps"), true)).toEqual({
      flags: { format: "json" },
      positionals: ["id", "-ef", "--x"],
    });
  });

  test("global flags have runc's defaults", () => {
    const g = parseFlags([], GLOBAL_FLAGS).flags;
    expect(g.root).toBeUndefined(); // /run/runts, or $XDG_RUNTIME_DIR/runts when rootless (src/rootless.ts)
    expect(g["log-format"]).toBe("text");
  });
});

describe("parseSignal", () => {
  test("numbers, names, names without SIG, any case", () => {
    expect(parseSignal("9")).toBe(9);
    expect(parseSignal("KILL")).toBe(9);
    expect(parseSignal("SIGKILL")).toBe(9);
    expect(parseSignal("sigterm")).toBe(15);
    expect(parseSignal("USR1")).toBe(10);
    expect(parseSignal("RTMIN+2")).toBe(36);
  });
  test("the signal table agrees with the platform's (os.constants.signals)", () => {
    for (const [name, num] of Object.entries(constants.signals)) {
      expect({ name, num: parseSignal(name) }).toEqual({ name, num });
    }
  });
  test("unknown signals are rejected", () => {
    for (const s of ["FOO", "0", "65", "SIG", "-9", ""]) expect(() => parseSignal(s)).toThrow(/unknown signal/);
  });
});

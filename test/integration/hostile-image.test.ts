/**
 * Files that runts itself reads on the host side: the image's /etc/passwd (for HOME) must not
 * hang or flood create, so a FIFO or a device node there is treated as absent; and the
 * caller's cwd (containerd's shim runs the runtime in the bundle directory) must not configure
 * the Bun runtime inside dist/runts (a bunfig.toml `preload` would run its JavaScript as root).
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { leftovers, probeInfo, ROOTS, runtime, RUNTS, RT_RUNTS } from "../lib/harness";
import { type Bundle } from "../lib/rootfs";
import { testScope } from "../lib/scope";

const scope = testScope("hostile");
const { newId, newBundle } = scope;

function bundleWithPasswd(make: (file: string) => void): Bundle {
  const b = newBundle();
  const file = path.join(b.rootfs, "etc/passwd");
  rmSync(file, { force: true });
  make(file);
  return b;
}

function mknod(args: string[]): void {
  const r = spawnSync("mknod", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`mknod ${args.join(" ")}: ${r.stderr}`);
}

describe("hostile image files read by runts", () => {
  const cases: [string, (file: string) => void][] = [
    ["a FIFO", (f) => mknod([f, "p"])],
    ["a character device (/dev/zero's 1:5)", (f) => mknod([f, "c", "1", "5"])],
  ];
  for (const [what, make] of cases) {
    test(`/etc/passwd that is ${what}: run neither hangs nor floods, HOME falls back to /`, () => {
      const b = bundleWithPasswd(make);
      const id = newId(RT_RUNTS);
      const started = Date.now();
      const r = runtime(RUNTS, ["--root", ROOTS.runts, "run", "-b", b.dir, id], { timeoutMs: 15_000 });
      expect(r.timedOut).toBe(false);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(probeInfo(r.stdout).env.filter((e) => e.startsWith("HOME="))).toEqual(["HOME=/"]);
      expect(leftovers(id, ROOTS.runts)).toEqual([]);
    });
  }
});

describe("hostile bundle directory as the caller's cwd", () => {
  test("bunfig.toml and .env in the cwd are ignored: no preload script runs", () => {
    const b = newBundle({ rootfs: "shared" });
    const marker = path.join(b.dir, "PWNED");
    writeFileSync(path.join(b.dir, "bunfig.toml"), 'preload = ["./evil.js"]\n');
    writeFileSync(path.join(b.dir, "evil.js"), `require("fs").writeFileSync(${JSON.stringify(marker)}, "x");\n`);
    writeFileSync(path.join(b.dir, ".env"), "BUN_OPTIONS=--preload ./evil.js\n");
    const id = newId(RT_RUNTS);
    for (const args of [["--version"], ["--root", ROOTS.runts, "run", "-b", ".", id], ["--root", ROOTS.runts, "state", id]]) {
      runtime(RUNTS, args, { cwd: b.dir });
      expect({ args, preloaded: existsSync(marker) }).toEqual({ args, preloaded: false });
    }
    expect(leftovers(id, ROOTS.runts)).toEqual([]);
  });
});

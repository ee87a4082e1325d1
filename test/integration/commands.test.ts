/**
 * Commands and inputs as runc takes them: `list` (table, json, -q, a missing --root),
 * `features` against its schema, errors in the --log file in --log-format (usage errors
 * too), `-h` exit statuses, and inputs runc accepts: linux.memoryPolicy, process.user
 * without gid; and where current runc refuses (bind-mount data options, no mount namespace).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { checkFeatures } from "../../src/spec/validate";
import {
  BOTH,
  leftovers,
  probeInfo,
  RT_RUNC,
  RT_RUNTS,
  type Runtime,
  runtime,
} from "../lib/harness";
import type { Bundle } from "../lib/rootfs";
import { testScope } from "../lib/scope";

const TEST_TIMEOUT_MS = 60_000;
let work = "";

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "runts-commands-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const scope = testScope("cmd");
const newId = (rt: Runtime) => scope.newId(rt);
const bundleWith = (config: (c: any) => void = () => {}): Bundle => scope.newBundle({ rootfs: "shared", config });

const on = (rt: Runtime, root: string, args: string[], opts: Parameters<typeof runtime>[2] = {}) =>
  runtime(rt.bin, ["--root", root, ...args], opts);

describe("list", () => {
  test("table, json and -q as runc prints them", () => {
    const out: Record<string, { table: string; json: any; quiet: string; ids: string[] }> = {};
    for (const rt of BOTH) {
      const root = path.join(work, `list-${rt.name}`);
      const b = bundleWith((c) => (c.process.args = ["/bin/sleep", "100"]));
      const ids = [scope.newId({ ...rt, root }), scope.newId({ ...rt, root })].sort();
      expect(on(rt, root, ["run", "-d", "--bundle", b.dir, ids[0]!]).code).toBe(0);
      expect(on(rt, root, ["create", "--bundle", b.dir, ids[1]!]).code).toBe(0);
      const table = on(rt, root, ["list"]);
      const json = on(rt, root, ["list", "--format", "json"]);
      const quiet = on(rt, root, ["list", "-q"]);
      expect([table.code, json.code, quiet.code]).toEqual([0, 0, 0]);
      out[rt.name] = { table: table.stdout, json: JSON.parse(json.stdout), quiet: quiet.stdout, ids };
    }
    for (const rt of BOTH) {
      const o = out[rt.name]!;
      expect(o.quiet).toBe(o.ids.map((id) => `${id}\n`).join(""));
      expect(o.json.map((s: any) => [s.id, s.status])).toEqual([
        [o.ids[0], "running"],
        [o.ids[1], "created"],
      ]);
    }
    // Same keys in the same order; the same columns at the same offsets (Go's tabwriter).
    expect(out.runts!.json.map((s: any) => Object.keys(s))).toEqual(out.runc!.json.map((s: any) => Object.keys(s)));
    const layout = (table: string, ids: string[]) =>
      table
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const row = l.replace(ids[0]!, "ID0").replace(ids[1]!, "ID1");
          return [...row.matchAll(/\S+/g)].map((m) => m.index).slice(0, 4); // ID, PID, STATUS, BUNDLE start columns
        });
    // CREATED is wider in runc (nanoseconds; runts records milliseconds), so OWNER moves.
    expect(layout(out.runts!.table, out.runts!.ids)).toEqual(layout(out.runc!.table, out.runc!.ids));
    expect(out.runts!.table.split("\n").filter(Boolean)).toHaveLength(3);
  }, TEST_TIMEOUT_MS);

  test("an empty root: the header, and null in json, as runc", () => {
    for (const rt of BOTH) {
      const root = path.join(work, `empty-${rt.name}`);
      mkdirSync(root);
      expect(on(rt, root, ["list", "-f", "json"]).stdout).toBe("null\n");
      expect(on(rt, root, ["list"]).stdout).toBe("ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
      expect(on(rt, root, ["list", "-q"]).stdout).toBe("");
    }
  }, TEST_TIMEOUT_MS);

  test("a --root that does not exist fails, as runc 1.5 (runc 1.1.5 creates it)", () => {
    const root = path.join(work, "no-such-root");
    const r = on(RT_RUNTS, root, ["list"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`runts: list: open ${JSON.stringify(root)}: no such file or directory (ENOENT)\n`);
    expect(existsSync(root)).toBe(false);
    expect(on(RT_RUNC, root, ["list"]).code).toBe(0);
    expect(existsSync(root)).toBe(true); // the 1.1.5 behaviour that runc 1.5 dropped
  }, TEST_TIMEOUT_MS);

  test("an unknown --format is an error naming it", () => {
    mkdirSync(path.join(work, "fmt"));
    const r = on(RT_RUNTS, path.join(work, "fmt"), ["list", "--format", "yaml"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid format option "yaml"/);
    expect(on(RT_RUNC, path.join(work, "fmt"), ["list", "--format", "yaml"]).code).not.toBe(0);
  }, TEST_TIMEOUT_MS);
});

describe("features", () => {
  test("valid against the features schema, and names what runts has", () => {
    const r = runtime(RT_RUNTS.bin, ["features"]);
    expect(r.code).toBe(0);
    const f = JSON.parse(r.stdout);
    expect(checkFeatures(f)).toBeNull();
    expect(f.ociVersionMin).toBe("1.0.0");
    expect(f.hooks).toEqual(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]);
    expect(f.linux.cgroup).toMatchObject({ v2: true, systemd: false });
    expect(f.linux.memoryPolicy.modes).toContain("MPOL_INTERLEAVE");
    // runc's list and runts's agree but for runc's documented extras.
    const runc = JSON.parse(runtime(RT_RUNC.bin, ["features"]).stdout);
    for (const o of runc.mountOptions as string[]) if (o !== "idmap" && o !== "ridmap") expect(f.mountOptions).toContain(o);
  }, TEST_TIMEOUT_MS);

  test("each listed namespace starts; each listed mount option is taken by a real mount", () => {
    const f = JSON.parse(runtime(RT_RUNTS.bin, ["features"]).stdout);
    const b = bundleWith((c) => {
      c.process.args = ["/bin/true"];
      // user and time need more than a flag (mappings, offsets): the other helpers' tests cover them.
      c.linux.namespaces = (f.linux.namespaces as string[]).filter((t) => t !== "user" && t !== "time").map((type) => ({ type }));
      c.mounts.push(
        { destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "noexec", "relatime", "rprivate", "rnosuid", "tmpcopyup"] },
        { destination: "/mnt", type: "bind", source: "/tmp", options: ["rbind", "ro", "rro", "nosymfollow"] },
      );
    });
    const id = newId(RT_RUNTS);
    const r = runtime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "run", "--bundle", b.dir, id]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  }, TEST_TIMEOUT_MS);
});

describe("errors reach --log in --log-format", () => {
  const cases: [string, string[], RegExp, number][] = [
    ["an unknown command", ["frobnicate"], /unknown command "frobnicate"/, 3],
    ["an unknown flag", ["list", "--bogus"], /unknown flag --bogus/, 1],
    ["an unknown global flag", ["--bogus", "list"], /unknown flag --bogus/, 1],
    ["a missing bundle (before config.json is read)", ["create", "--bundle", "/nonexistent-bundle", "x-1"], /nonexistent-bundle/, 1],
    ["a flag missing its value", ["create", "--bundle"], /--bundle/, 1],
  ];
  for (const [what, args, message, code] of cases) {
    test(`${what}: one JSON line, the exit status runc gives`, () => {
      for (const format of ["json", "text"]) {
        const log = path.join(work, `log-${Math.random().toString(16).slice(2)}`);
        const r = runtime(RT_RUNTS.bin, ["--log", log, "--log-format", format, "--root", RT_RUNTS.root, ...args]);
        expect(r.code).toBe(code);
        const lines = readFileSync(log, "utf8").trim().split("\n");
        expect(lines).toHaveLength(1);
        if (format === "json") {
          const entry = JSON.parse(lines[0]!);
          expect(Object.keys(entry)).toEqual(["level", "msg", "time"]);
          expect(entry.level).toBe("error");
          expect(entry.msg).toMatch(message);
        } else {
          expect(lines[0]).toMatch(/^time="[^"]+" level=error msg=".*"$/);
          expect(JSON.parse(lines[0]!.replace(/^.*? msg=/, ""))).toMatch(message);
        }
      }
      // runc's statuses; runc itself logs nothing for a global flag it cannot parse.
      expect(runtime(RT_RUNC.bin, ["--root", RT_RUNC.root, ...args]).code).toBe(code);
    }, TEST_TIMEOUT_MS);
  }

  test("an invalid --log-format is an error in the log file too", () => {
    const log = path.join(work, "bad-format.log");
    const r = runtime(RT_RUNTS.bin, ["--log", log, "--log-format", "xml", "list"]);
    expect(r.code).toBe(1);
    expect(readFileSync(log, "utf8")).toMatch(/level=error msg=".*invalid --log-format/);
    expect(runtime(RT_RUNC.bin, ["--log-format", "xml", "list"]).code).toBe(1);
  }, TEST_TIMEOUT_MS);
});

describe("-h", () => {
  test("every command's -h exits as runc's; an unknown command's -h is its error", () => {
    for (const cmd of ["create", "start", "run", "state", "kill", "delete", "list", "ps", "pause", "resume", "spec", "exec", "features"]) {
      for (const flag of ["-h", "--help"]) {
        const r = runtime(RT_RUNTS.bin, [cmd, flag]);
        const o = runtime(RT_RUNC.bin, [cmd, flag]);
        expect([cmd, flag, r.code]).toEqual([cmd, flag, o.code]);
        expect(r.stdout).toContain(cmd);
      }
    }
    expect(runtime(RT_RUNTS.bin, ["bogus", "-h"]).code).toBe(runtime(RT_RUNC.bin, ["bogus", "-h"]).code);
    expect(runtime(RT_RUNTS.bin, ["-h", "bogus"]).code).toBe(0);
  }, TEST_TIMEOUT_MS);
});

describe("inputs runc accepts", () => {
  test("linux.memoryPolicy: set_mempolicy for the process (numa_maps)", () => {
    const cases: [any, RegExp][] = [
      [{ mode: "MPOL_INTERLEAVE", nodes: "0" }, /^interleave:0$/],
      [{ mode: "MPOL_BIND", nodes: "0", flags: ["MPOL_F_STATIC_NODES"] }, /^bind=static:0$/],
      [{ mode: "MPOL_PREFERRED", nodes: "0", flags: ["MPOL_F_RELATIVE_NODES"] }, /^prefer=relative:0$/],
      [{ mode: "MPOL_DEFAULT" }, /^default$/],
    ];
    for (const [policy, want] of cases) {
      const b = bundleWith((c) => {
        c.process.args = ["/bin/sh", "-c", "head -n 1 /proc/self/numa_maps | cut -d ' ' -f 2"];
        c.linux.memoryPolicy = policy;
      });
      const r = runtime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "run", "--bundle", b.dir, newId(RT_RUNTS)]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toMatch(want);
    }
  }, TEST_TIMEOUT_MS);

  test("linux.memoryPolicy errors, worded as runc's, nothing left", () => {
    const cases: [any, RegExp][] = [
      [{ mode: "MPOL_DEFAULT", nodes: "0-7" }, /linux\.memoryPolicy\.nodes: invalid memory policy: MPOL_DEFAULT mode requires 0 nodes but got 8/],
      [{ mode: "MPOL_BIND", nodes: "0-9876543210" }, /linux\.memoryPolicy\.nodes: invalid memory policy node/],
      [{ mode: "MPOL_BIND", nodes: "x" }, /linux\.memoryPolicy\.nodes: invalid memory policy nodes "x"/],
      [{ mode: "MPOL_BIND", nodes: "7" }, /config\.json: linux\.memoryPolicy: set_mempolicy: invalid argument \(EINVAL\)/],
      [{ mode: "MPOL_PREFERRED", nodes: "0", flags: ["badflag"] }, /\/linux\/memoryPolicy\/flags\/0: must be one of/],
    ];
    for (const [policy, want] of cases) {
      const b = bundleWith((c) => (c.linux.memoryPolicy = policy));
      const id = newId(RT_RUNTS);
      const r = runtime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "run", "--bundle", b.dir, id]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(want);
      expect(leftovers(id, RT_RUNTS.root)).toEqual([]);
    }
  }, TEST_TIMEOUT_MS);

  test("process.user without gid: gid 0, as runc", () => {
    const gids: Record<string, number> = {};
    for (const rt of BOTH) {
      const b = bundleWith((c) => (c.process.user = { uid: 1000 }));
      const r = runtime(rt.bin, ["--root", rt.root, "run", "--bundle", b.dir, newId(rt)]);
      expect(r.code).toBe(0);
      const info = probeInfo(r.stdout);
      expect(info.uid).toBe(1000);
      gids[rt.name] = info.gid;
    }
    expect(gids).toEqual({ runc: 0, runts: 0 });
  }, TEST_TIMEOUT_MS);
});

describe("inputs current runc refuses (runc 1.1.5 took them)", () => {
  test("filesystem data options on a bind mount: refused with runc 1.2's words", () => {
    const b = bundleWith((c) => c.mounts.push({ destination: "/mnt", type: "bind", source: "/tmp", options: ["rbind", "mode=755"] }));
    const id = newId(RT_RUNTS);
    const r = runtime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "run", "--bundle", b.dir, id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/mounts\[\d+\]\.options\[1\]: bind mounts cannot have any filesystem-specific options applied \(got "mode=755"\)/);
    expect(leftovers(id, RT_RUNTS.root)).toEqual([]);
    // runc 1.1.5 drops them silently.
    expect(runtime(RT_RUNC.bin, ["--root", RT_RUNC.root, "run", "--bundle", b.dir, newId(RT_RUNC)]).code).toBe(0);
  }, TEST_TIMEOUT_MS);

  test("no mount namespace: runc's error where masked or read-only paths need one; refused otherwise", () => {
    const masked = bundleWith((c) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== "mount")));
    for (const rt of BOTH) {
      const id = newId(rt);
      const r = runtime(rt.bin, ["--root", rt.root, "run", "--bundle", masked.dir, id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/unable to restrict sys entries .*without a private MNT namespace/);
      expect(leftovers(id, rt.root)).toEqual([]);
    }
    const bare = bundleWith((c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== "mount");
      c.linux.maskedPaths = [];
      c.linux.readonlyPaths = [];
    });
    const id = newId(RT_RUNTS);
    const r = runtime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "run", "--bundle", bare.dir, id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/linux\.namespaces: a mount namespace \(new or joined by path\) is required/);
    expect(leftovers(id, RT_RUNTS.root)).toEqual([]);
  }, TEST_TIMEOUT_MS);
});

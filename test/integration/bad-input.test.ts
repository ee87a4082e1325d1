/**
 * Bad input: every case exits non-zero (except `delete --force` of an unknown id, which runc
 * treats as success) with one stderr line saying what went wrong and where, and leaves nothing
 * behind. Each case also runs under runc (the oracle) to confirm it fails there too.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  containerState,
  leftovers,
  parseMountinfoLine,
  RT_RUNC,
  RT_RUNTS,
  type RunResult,
  type Runtime,
  runtime,
} from "../lib/harness";
import { type Bundle } from "../lib/rootfs";
import { testScope } from "../lib/scope";

const RT = RT_RUNTS;
const ORACLE = RT_RUNC;

const scope = testScope("bad");
const { newId, newBundle, hostPath } = scope;

function bundleWith(config: (c: any) => void): Bundle {
  return newBundle({ rootfs: "shared", config });
}

function tmpDir(): string {
  return hostPath(mkdtempSync(path.join(tmpdir(), "runts-bad-")));
}

function run(rt: Runtime, args: string[]): RunResult {
  return runtime(rt.bin, ["--root", rt.root, ...args]);
}

/** Non-zero exit, nothing on stdout, exactly one line on stderr matching every pattern. */
function expectOneLineError(r: RunResult, ...patterns: RegExp[]): void {
  expect(r.timedOut).toBe(false);
  expect(r.code).not.toBe(0);
  expect(r.code).toBeGreaterThan(0);
  expect(r.stdout).toBe("");
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  expect(lines).toHaveLength(1);
  for (const p of patterns) expect(lines[0]!).toMatch(p);
}

/** Nothing of `id` anywhere: no state dir under the root, no cgroup, mount or process. */
function expectNothingLeft(rt: Runtime, id: string): void {
  if (id !== "") expect(existsSync(path.join(rt.root, id))).toBe(false);
  expect(leftovers(id, rt.root)).toEqual([]);
}

/** The same command under runc also fails (or also succeeds). */
function expectOracleAgrees(args: (rt: Runtime) => string[], succeeds = false): void {
  const a = args(ORACLE);
  const r = run(ORACLE, a);
  expect({ oracle: ORACLE.name, args: a, ok: r.code === 0 }).toEqual({ oracle: ORACLE.name, args: a, ok: succeeds });
}

const quoteRe = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));

/** Per test; the runtime calls inside have their own shorter timeouts. */
const TEST_TIMEOUT_MS = 60_000;


describe("bad bundles and configs (create)", () => {
  test("missing bundle directory", () => {
    const missing = path.join(tmpDir(), "no-such-bundle");
    const id = newId(RT);
    const r = run(RT, ["create", "--bundle", missing, id]);
    expectOneLineError(r, quoteRe(missing), /no such file or directory/);
    expectNothingLeft(RT, id);
    expectOracleAgrees((rt) => ["create", "--bundle", missing, newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("bundle without config.json", () => {
    const dir = tmpDir();
    const id = newId(RT);
    const r = run(RT, ["create", "--bundle", dir, id]);
    expectOneLineError(r, quoteRe(path.join(dir, "config.json")), /no such file or directory/);
    expectNothingLeft(RT, id);
    expectOracleAgrees((rt) => ["create", "--bundle", dir, newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("config.json that is a directory: EISDIR, naming the path", () => {
    const dir = tmpDir();
    const file = path.join(dir, "config.json");
    mkdirSync(file);
    const id = newId(RT);
    const r = run(RT, ["create", "--bundle", dir, id]);
    expectOneLineError(r, quoteRe(JSON.stringify(file)), /is a directory \(EISDIR\)/);
    expectNothingLeft(RT, id);
    expectOracleAgrees((rt) => ["create", "--bundle", dir, newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("config.json that is a dangling symlink: names the path and the missing target", () => {
    const dir = tmpDir();
    const file = path.join(dir, "config.json");
    const target = path.join(dir, "gone", "config.json");
    symlinkSync(target, file);
    const id = newId(RT);
    const r = run(RT, ["create", "--bundle", dir, id]);
    expectOneLineError(r, quoteRe(JSON.stringify(file)), quoteRe(`a symlink to ${JSON.stringify(target)}, which does not exist`), /ENOENT/);
    expectNothingLeft(RT, id);
    expectOracleAgrees((rt) => ["create", "--bundle", dir, newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("config.json that is not JSON", () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, "config.json"), '{"ociVersion": "1.2.0", "process": {');
    const id = newId(RT);
    const r = run(RT, ["create", "--bundle", dir, id]);
    expectOneLineError(r, /config\.json/, /JSON/i);
    expectNothingLeft(RT, id);
    expectOracleAgrees((rt) => ["create", "--bundle", dir, newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("config.json with a wrong type: process.args a string", () => {
    const b = bundleWith((c) => (c.process.args = "/bin/probe info"));
    const id = newId(RT);
    const r = run(RT, ["create", "--bundle", b.dir, id]);
    expectOneLineError(r, /config\.json/, /\/process\/args/, /array/);
    expectNothingLeft(RT, id);
    expectOracleAgrees((rt) => ["create", "--bundle", b.dir, newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("args[0] that does not exist (absolute): create fails, like runc", () => {
    const b = bundleWith((c) => (c.process.args = ["/bin/nope"]));
    const id = newId(RT);
    const r = run(RT, ["create", "--bundle", b.dir, id]);
    expectOneLineError(r, /"\/bin\/nope"/, /no such file or directory/);
    expectNothingLeft(RT, id);
    expectOracleAgrees((rt) => ["create", "--bundle", b.dir, newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("args[0] that does not exist (absolute): run fails too", () => {
    const b = bundleWith((c) => (c.process.args = ["/bin/nope"]));
    const id = newId(RT);
    const r = run(RT, ["run", "--bundle", b.dir, id]);
    expectOneLineError(r, /"\/bin\/nope"/, /no such file or directory/);
    expectNothingLeft(RT, id);
    expectOracleAgrees((rt) => ["run", "--bundle", b.dir, newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("args[0] not found via $PATH: the error names the command as given", () => {
    const b = bundleWith((c) => (c.process.args = ["nope"]));
    const id = newId(RT);
    const r = run(RT, ["create", "--bundle", b.dir, id]);
    expectOneLineError(r, /"nope"/, /not found in \$PATH/);
    expectNothingLeft(RT, id);
    expectOracleAgrees((rt) => ["create", "--bundle", b.dir, newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("args[0] that is not executable: permission denied", () => {
    const b = bundleWith((c) => (c.process.args = ["/etc/passwd"]));
    const id = newId(RT);
    const r = run(RT, ["create", "--bundle", b.dir, id]);
    expectOneLineError(r, /"\/etc\/passwd"/, /permission denied/);
    expectNothingLeft(RT, id);
    expectOracleAgrees((rt) => ["create", "--bundle", b.dir, newId(rt)]);
  }, TEST_TIMEOUT_MS);
});

describe("bad mounts (create)", () => {
  /** Host mount points at or below dir. */
  const hostMountsUnder = (dir: string): string[] =>
    readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map(parseMountinfoLine)
      .filter((m) => m !== null && (m.mountPoint === dir || m.mountPoint.startsWith(`${dir}/`)))
      .map((m) => m!.mountPoint);

  /** `create` of a bundle with `mount` added to the default mounts fails with one line; nothing is left. */
  function expectCreateFails(mount: object, ...patterns: RegExp[]): { bundle: Bundle; index: number } {
    let index = -1;
    const b = bundleWith((c) => (index = c.mounts.push(mount) - 1));
    const id = newId(RT);
    const r = run(RT, ["create", "--bundle", b.dir, id]);
    expectOneLineError(r, new RegExp(`^runts: config\\.json: mounts\\[${index}\\]`), ...patterns);
    expectNothingLeft(RT, id);
    expect(hostMountsUnder(b.rootfs)).toEqual([]);
    return { bundle: b, index };
  }

  test("unknown filesystem type: mounts[i].type, the destination and ENODEV", () => {
    const { bundle, index } = expectCreateFails(
      { destination: "/run", type: "nosuchfs", source: "none" },
      /\.type: /,
      /unknown filesystem type "nosuchfs"/,
      /"\/run"/,
      /no such device \(ENODEV\)/,
    );
    expect(index).toBeGreaterThan(0);
    expectOracleAgrees((rt) => ["create", "--bundle", bundle.dir, newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("unknown option on a bind mount: refused naming mounts[i].options[j] (runc 1.1.5 silently ignores it, runc 1.2+ refuses it)", () => {
    const src = tmpDir();
    const { bundle, index } = expectCreateFails(
      { destination: "/home", type: "bind", source: src, options: ["rbind", "bogus"] },
      /\.options\[1\]: bind mounts cannot have any filesystem-specific options applied \(got "bogus"\)/,
    );
    expect(index).toBeGreaterThan(0);
    expect(hostMountsUnder(src)).toEqual([]);
    expectOracleAgrees((rt) => ["create", "--bundle", bundle.dir, newId(rt)], true);
  }, TEST_TIMEOUT_MS);

  test("bad filesystem option on a tmpfs: passed on as data as by runc; the mount's failure names mounts[i], destination, type and errno", () => {
    const { bundle } = expectCreateFails(
      { destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["size=1m", "bogus"] },
      /: mount "\/tmp": type tmpfs, source tmpfs, options size=1m,bogus: invalid argument \(EINVAL\)$/,
    );
    expectOracleAgrees((rt) => ["create", "--bundle", bundle.dir, newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("a recursive atime option mount_setattr cannot apply (ratime alone): refused naming the option; runc fails with EINVAL", () => {
    const src = tmpDir();
    const { bundle } = expectCreateFails(
      { destination: "/home", type: "bind", source: src, options: ["rbind", "ratime"] },
      /\.options\[1\]: "ratime" cannot be applied alone/,
    );
    expectOracleAgrees((rt) => ["create", "--bundle", bundle.dir, newId(rt)]);
  }, TEST_TIMEOUT_MS);
});

describe("bad container ids", () => {
  const cases: [string, string, RegExp][] = [
    ["../x", "../x", /"\.\.\/x"/],
    ["empty", "", /missing|empty/],
    ["300 characters", "a".repeat(300), /too long/],
    ["a/b", "a/b", /"a\/b"/],
  ];
  for (const [name, id, what] of cases) {
    test(`create with id ${name}`, () => {
      const b = bundleWith(() => {});
      const r = run(RT, ["create", "--bundle", b.dir, id]);
      expectOneLineError(r, /container id/, what);
      // nothing was made next to or outside the state root
      expect(existsSync(path.join(RT.root, "..", "x"))).toBe(false);
      expect(existsSync(path.join(RT.root, "a"))).toBe(false);
      if (id !== "") expect(leftovers(id, RT.root)).toEqual([]);
      expectOracleAgrees(() => ["create", "--bundle", b.dir, id]);
    }, TEST_TIMEOUT_MS);
  }
});

describe("bad commands on containers", () => {
  function created(): { id: string; pid: number } {
    const b = bundleWith((c) => (c.process.args = ["/bin/probe", "pause"]));
    const id = newId(RT);
    const c = run(RT, ["create", "--bundle", b.dir, id]);
    expect(c.stderr).toBe("");
    expect(c.code).toBe(0);
    const st = containerState(RT.bin, RT.root, id);
    expect(st?.status).toBe("created");
    return { id, pid: st!.pid };
  }

  test("kill with an unknown signal", () => {
    const { id, pid } = created();
    const r = run(RT, ["kill", id, "FOO"]);
    expectOneLineError(r, /unknown signal/, /FOO/);
    expect(containerState(RT.bin, RT.root, id)).toMatchObject({ status: "created", pid });
    expect(run(RT, ["delete", id]).code).toBe(0);
    expectNothingLeft(RT, id);
  }, TEST_TIMEOUT_MS);

  test("start of a running container", () => {
    const { id, pid } = created();
    expect(run(RT, ["start", id]).code).toBe(0);
    const r = run(RT, ["start", id]);
    expectOneLineError(r, quoteRe(id), /already running/);
    expect(containerState(RT.bin, RT.root, id)).toMatchObject({ status: "running", pid });
    expect(run(RT, ["delete", "--force", id]).code).toBe(0);
    expectNothingLeft(RT, id);
  }, TEST_TIMEOUT_MS);

  test("delete of a running container without --force", () => {
    const { id, pid } = created();
    expect(run(RT, ["start", id]).code).toBe(0);
    const r = run(RT, ["delete", id]);
    expectOneLineError(r, quoteRe(id), /running/);
    expect(containerState(RT.bin, RT.root, id)).toMatchObject({ status: "running", pid });
    expect(run(RT, ["delete", "--force", id]).code).toBe(0);
    expectNothingLeft(RT, id);
  }, TEST_TIMEOUT_MS);

  test("start of an unknown id", () => {
    const id = newId(RT);
    expectOneLineError(run(RT, ["start", id]), quoteRe(id), /does not exist/);
    expectNothingLeft(RT, id);
    expectOracleAgrees((rt) => ["start", newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("state of an unknown id", () => {
    const id = newId(RT);
    expectOneLineError(run(RT, ["state", id]), quoteRe(id), /does not exist/);
    expectNothingLeft(RT, id);
    expectOracleAgrees((rt) => ["state", newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("delete of an unknown id", () => {
    const id = newId(RT);
    expectOneLineError(run(RT, ["delete", id]), quoteRe(id), /does not exist/);
    expectNothingLeft(RT, id);
    expectOracleAgrees((rt) => ["delete", newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("delete --force of an unknown id succeeds silently, as in runc 1.1.5", () => {
    const oracle = run(ORACLE, ["delete", "--force", newId(ORACLE)]);
    expect(oracle.code).toBe(0);
    expect(oracle.stderr).toBe("");
    const id = newId(RT);
    const r = run(RT, ["delete", "--force", id]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("");
    expect(r.code).toBe(0);
    expectNothingLeft(RT, id);
  }, TEST_TIMEOUT_MS);

  test("kill of an unknown id", () => {
    const id = newId(RT);
    expectOneLineError(run(RT, ["kill", id, "KILL"]), quoteRe(id), /does not exist/);
    expectOracleAgrees((rt) => ["kill", newId(rt), "KILL"]);
  }, TEST_TIMEOUT_MS);
});

describe("bad command lines", () => {
  test("unknown command", () => {
    const r = run(RT, ["frobnicate", "x"]);
    expectOneLineError(r, /unknown command/, /frobnicate/);
    expectOracleAgrees(() => ["frobnicate", "x"]);
  }, TEST_TIMEOUT_MS);

  test("unknown command flag", () => {
    const b = bundleWith(() => {});
    const id = newId(RT);
    const r = run(RT, ["create", "--bogus", "--bundle", b.dir, id]);
    expectOneLineError(r, /unknown flag/, /--bogus/);
    expectNothingLeft(RT, id);
    expectOracleAgrees((rt) => ["create", "--bogus", "--bundle", b.dir, newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("unknown global flag", () => {
    const r = runtime(RT.bin, ["--bogus", "--root", RT.root, "list"]);
    expectOneLineError(r, /unknown flag/, /--bogus/);
    const o = runtime(ORACLE.bin, ["--bogus", "--root", ORACLE.root, "list"]);
    expect(o.code).not.toBe(0);
  }, TEST_TIMEOUT_MS);

  test("--preserve-fds -1 and 1.5 are usage errors (runc 1.1.5 accepts -1 as 0)", () => {
    const b = bundleWith(() => {});
    for (const n of ["-1", "1.5"]) {
      for (const cmd of ["create", "run"]) {
        const id = newId(RT);
        const r = run(RT, [cmd, "--preserve-fds", n, "--bundle", b.dir, id]);
        expectOneLineError(r, /--preserve-fds/, /non-negative whole number/, quoteRe(JSON.stringify(n)));
        expect(r.code).toBe(1); // runc's status for a usage error
        expectNothingLeft(RT, id);
      }
    }
    expectOracleAgrees((rt) => ["create", "--preserve-fds", "-1", "--bundle", b.dir, newId(rt)], true);
    expectOracleAgrees((rt) => ["create", "--preserve-fds", "1.5", "--bundle", b.dir, newId(rt)]);
  }, TEST_TIMEOUT_MS);

  test("a flag missing its value", () => {
    const r = run(RT, ["create", "--bundle"]);
    expectOneLineError(r, /--bundle/);
  }, TEST_TIMEOUT_MS);
});

describe("state root", () => {
  test("a bad id never creates anything outside the state root", () => {
    const root = path.join(tmpDir(), "root");
    mkdirSync(root);
    const b = bundleWith(() => {});
    const r = runtime(RT.bin, ["--root", root, "create", "--bundle", b.dir, "../escape"]);
    expectOneLineError(r, /container id/);
    expect(existsSync(path.join(root, "..", "escape"))).toBe(false);
  }, TEST_TIMEOUT_MS);
});

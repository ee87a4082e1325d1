/**
 * Rootless runts: a non-root test user (created and removed here) runs `runts spec --rootless`
 * bundles, with its state under $XDG_RUNTIME_DIR/runts, and cannot act on root's containers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { containerState, forceCleanup, leftovers, requireRoot, RT_RUNC, RT_RUNTS, type RunResult, runtime, RUNTS, uniqueId } from "../lib/harness";
import { type Bundle, makeBundle, testRootfs } from "../lib/rootfs";

const USER = `rtsrl${process.pid % 100000}`;
let uid = -1;
let gid = -1;
let home = "";
let xdg = "";
const rootContainers: string[] = [];
const userContainers: { bin: string; id: string }[] = [];
const bundles: Bundle[] = [];

beforeAll(() => {
  requireRoot();
  spawnSync("userdel", [USER], { stdio: "ignore" });
  const add = spawnSync("useradd", ["-M", "-s", "/bin/sh", USER], { encoding: "utf8" });
  expect(add.stderr).toBe("");
  uid = Number(spawnSync("id", ["-u", USER], { encoding: "utf8" }).stdout);
  gid = Number(spawnSync("id", ["-g", USER], { encoding: "utf8" }).stdout);
  home = mkdtempSync("/tmp/runts-rootless-");
  xdg = path.join(home, "xdg");
  mkdirSync(xdg, { mode: 0o700 });
  spawnSync("chown", ["-R", `${uid}:${gid}`, home]);
  chmodSync(home, 0o755);
});

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  spawnSync("userdel", [USER], { stdio: "ignore" });
});

afterEach(() => {
  for (const { bin, id } of userContainers.splice(0)) asUser(bin, ["delete", "--force", id]);
  for (const id of rootContainers.splice(0)) forceCleanup(RT_RUNTS.bin, RT_RUNTS.root, id);
  for (const b of bundles.splice(0)) b.cleanup();
});

/** Runs a runtime as the test user, with only XDG_RUNTIME_DIR, HOME and PATH in its environment. */
function asUser(bin: string, args: string[], cwd = home, env: Record<string, string> = { XDG_RUNTIME_DIR: xdg }): RunResult {
  return runtime("setpriv", ["--reuid", String(uid), "--regid", String(gid), "--clear-groups", "--", bin, ...args], {
    inheritEnv: false,
    env: { HOME: home, PATH: "/usr/bin:/bin:/usr/sbin:/sbin", ...env },
    cwd,
  });
}

/** `<bin> spec --rootless` as the user in a fresh bundle with the test rootfs, owned by the user. */
function userBundle(bin: string, args: string[], mutate?: (c: any) => void): string {
  const dir = mkdtempSync(path.join(home, "bundle-"));
  const cp = spawnSync("cp", ["-a", testRootfs(), path.join(dir, "rootfs")]);
  expect(cp.status).toBe(0);
  spawnSync("chown", ["-R", `${uid}:${gid}`, dir]);
  const spec = asUser(bin, ["spec", "--rootless"], dir);
  expect({ code: spec.code, stderr: spec.stderr }).toEqual({ code: 0, stderr: "" });
  const file = path.join(dir, "config.json");
  const c = JSON.parse(readFileSync(file, "utf8"));
  c.process.terminal = false;
  c.process.args = args;
  mutate?.(c);
  writeFileSync(file, JSON.stringify(c));
  return dir;
}

function userId(bin: string): string {
  const id = uniqueId("rl");
  userContainers.push({ bin, id });
  return id;
}

const SCRIPT = "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; cat /proc/self/setgroups; touch /tmp/made; stat -c %u /tmp/made; hostname";

describe("rootless runts, as a plain user", () => {
  test("`spec --rootless` + `run`: root of a user namespace mapping the caller, as runc gives it", () => {
    const out: Record<string, string> = {};
    for (const bin of [RT_RUNC.bin, RUNTS]) {
      const dir = userBundle(bin, ["/bin/sh", "-c", SCRIPT], (c) => ((c.root.readonly = false), (c.hostname = "box")));
      const r = asUser(bin, ["run", userId(bin)], dir);
      expect({ bin, code: r.code, stderr: r.stderr }).toEqual({ bin, code: 0, stderr: "" });
      out[bin] = r.stdout.replace(/[ \t]+/g, " ");
      expect(statSync(path.join(dir, "rootfs/tmp/made")).uid).toBe(uid);
    }
    expect(out[RUNTS]!.split("\n").map((l) => l.trim())).toEqual(["0", "0", `0 ${uid} 1`, `0 ${gid} 1`, "deny", "0", "box", ""]);
    expect(out[RUNTS]).toBe(out[RT_RUNC.bin]!);
  });

  test("create, state, start, kill, delete; state lives in $XDG_RUNTIME_DIR/runts; nothing is left", () => {
    const dir = userBundle(RUNTS, ["/bin/sleep", "60"]);
    const id = userId(RUNTS);
    const c = asUser(RUNTS, ["create", id], dir);
    expect({ code: c.code, stderr: c.stderr }).toEqual({ code: 0, stderr: "" });
    const stateDir = path.join(xdg, "runts", id);
    expect(statSync(path.join(xdg, "runts")).mode & 0o777).toBe(0o700);
    expect(statSync(stateDir).uid).toBe(uid);
    const state = JSON.parse(asUser(RUNTS, ["state", id]).stdout);
    expect({ status: state.status, owner: state.owner }).toEqual({ status: "created", owner: USER });
    expect(readFileSync(`/proc/${state.pid}/uid_map`, "utf8").trim().split(/\s+/)).toEqual(["0", String(uid), "1"]);
    expect(asUser(RUNTS, ["start", id]).code).toBe(0);
    expect(JSON.parse(asUser(RUNTS, ["state", id]).stdout).status).toBe("running");
    expect(asUser(RUNTS, ["ps", "--format", "json", id]).stdout.trim()).toBe(`[${state.pid}]`);
    const k = asUser(RUNTS, ["kill", id, "KILL"]);
    expect({ code: k.code, stderr: k.stderr }).toEqual({ code: 0, stderr: "" });
    for (let i = 0; i < 200 && JSON.parse(asUser(RUNTS, ["state", id]).stdout).status !== "stopped"; i++) Bun.sleepSync(10);
    expect(JSON.parse(asUser(RUNTS, ["state", id]).stdout).status).toBe("stopped");
    const d = asUser(RUNTS, ["delete", id]);
    expect({ code: d.code, stderr: d.stderr }).toEqual({ code: 0, stderr: "" });
    expect(existsSync(stateDir)).toBe(false);
    expect(leftovers(id, path.join(xdg, "runts"))).toEqual([]);
  });

  test("a second container joins the user namespace of a running first one by path", () => {
    const first = userBundle(RUNTS, ["/bin/sleep", "60"]);
    const a = userId(RUNTS);
    // started: until its execve the init is not dumpable, and its /proc/PID/ns are root's
    expect(asUser(RUNTS, ["run", "--detach", a], first).code).toBe(0);
    const pid = JSON.parse(asUser(RUNTS, ["state", a]).stdout).pid as number;
    const dir = userBundle(RUNTS, ["/bin/sh", "-c", "readlink /proc/self/ns/user; id -u"], (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === "user" ? { type: "user", path: `/proc/${pid}/ns/user` } : n));
      delete c.linux.uidMappings;
      delete c.linux.gidMappings;
    });
    const r = asUser(RUNTS, ["run", userId(RUNTS)], dir);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toBe(`${spawnSync("readlink", [`/proc/${pid}/ns/user`], { encoding: "utf8" }).stdout.trim()}\n0\n`);
  });

  test("a resource that needs a cgroup is refused when none is delegated, naming it; nothing is left", () => {
    const dir = userBundle(RUNTS, ["/bin/true"], (c) => (c.linux.resources = { pids: { limit: 10 } }));
    const id = userId(RUNTS);
    const r = asUser(RUNTS, ["run", id], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("runts: config.json: linux.resources.pids: needs a cgroup, and rootless runts has none delegated");
    expect(leftovers(id, path.join(xdg, "runts"))).toEqual([]);
  });

  test("a config without a user namespace is refused for a rootless runts", () => {
    const dir = userBundle(RUNTS, ["/bin/true"], (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== "user");
      delete c.linux.uidMappings;
      delete c.linux.gidMappings;
    });
    const id = userId(RUNTS);
    const r = asUser(RUNTS, ["create", id], dir);
    expect(r.stderr).toContain("runts: config.json: linux.namespaces: a rootless container needs a new user namespace");
    expect(r.code).toBe(1);
    expect(leftovers(id, path.join(xdg, "runts"))).toEqual([]);
  });

  test("without XDG_RUNTIME_DIR (and no /run/user/UID) the state root is runc's /run/runts, which a plain user cannot use", () => {
    const dir = userBundle(RUNTS, ["/bin/true"]);
    const r = asUser(RUNTS, ["run", userId(RUNTS)], dir, {});
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`runts: state root "/run/runts": owned by uid 0, not by runts's user (uid ${uid}): refusing it\n`);
  });
});

describe("subordinate ids (/etc/subuid, /etc/subgid) through newuidmap and newgidmap", () => {
  const SUB = 300000;
  const files = ["/etc/subuid", "/etc/subgid"];
  const saved: Record<string, string> = {};
  beforeAll(() => {
    for (const f of files) {
      saved[f] = existsSync(f) ? readFileSync(f, "utf8") : "";
      writeFileSync(f, `${saved[f]}${USER}:${SUB}:65536\n`);
    }
  });
  afterAll(() => {
    for (const f of files) writeFileSync(f, saved[f]!);
  });

  test("the caller as root plus 65536 subordinate ids: ownership inside and on the host, as runc gives it", () => {
    const out: Record<string, string> = {};
    for (const bin of [RT_RUNC.bin, RUNTS]) {
      const dir = userBundle(bin, ["/bin/sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; touch /tmp/f; chown 1000:1000 /tmp/f; stat -c %u:%g /tmp/f"], (c) => {
        c.root.readonly = false;
        for (const set of ["bounding", "effective", "permitted"]) c.process.capabilities[set].push("CAP_CHOWN");
        c.linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }, { containerID: 1, hostID: SUB, size: 65536 }];
        c.linux.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }, { containerID: 1, hostID: SUB, size: 65536 }];
      });
      const r = asUser(bin, ["run", userId(bin)], dir);
      expect({ bin, code: r.code, stderr: r.stderr }).toEqual({ bin, code: 0, stderr: "" });
      out[bin] = r.stdout.replace(/[ \t]+/g, " ");
      const st = statSync(path.join(dir, "rootfs/tmp/f"));
      expect({ bin, uid: st.uid, gid: st.gid }).toEqual({ bin, uid: SUB + 999, gid: SUB + 999 });
    }
    expect(out[RUNTS]!.split("\n").map((l) => l.trim())).toEqual([`0 ${uid} 1`, `1 ${SUB} 65536`, `0 ${gid} 1`, `1 ${SUB} 65536`, "1000:1000", ""]);
    expect(out[RUNTS]).toBe(out[RT_RUNC.bin]!);
  });

  test("ids beyond the user's subordinate range are refused by newuidmap, naming the field; nothing is left", () => {
    const dir = userBundle(RUNTS, ["/bin/true"], (c) => {
      c.linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }, { containerID: 1, hostID: SUB + 100000, size: 10 }];
    });
    const id = userId(RUNTS);
    const r = asUser(RUNTS, ["run", id], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("runts: config.json: linux.uidMappings: newuidmap");
    expect(leftovers(id, path.join(xdg, "runts"))).toEqual([]);
  });
});

describe("a plain user and root's containers", () => {
  test("cannot state, kill, delete or list a root container; it stays as it was", () => {
    const b = makeBundle({ config: (c) => (c.process.args = ["/bin/sleep", "60"]) });
    bundles.push(b);
    const id = uniqueId("rlroot");
    rootContainers.push(id);
    expect(runtime(RUNTS, ["--root", RT_RUNTS.root, "create", "--bundle", b.dir, id]).code).toBe(0);
    const before = containerState(RUNTS, RT_RUNTS.root, id)!;
    for (const args of [["state", id], ["kill", id, "KILL"], ["delete", "--force", id], ["list"], ["start", id]]) {
      const r = asUser(RUNTS, ["--root", RT_RUNTS.root, ...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr).toContain("permission denied (EACCES)");
    }
    const after = containerState(RUNTS, RT_RUNTS.root, id)!;
    expect({ status: after.status, pid: after.pid }).toEqual({ status: "created", pid: before.pid });
  });
});

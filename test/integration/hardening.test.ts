/**
 * Hardening found in review, each test failing on a runtime without the fix:
 *   - host paths (state dir, cgroup, rootfs) are opened before joining configured namespaces
 *   - createContainer hooks that do not read their stdin (the state JSON, here made bigger
 *     than a pipe buffer) neither kill the init nor block it past the hook's timeout
 *   - `start` reports what fails between exec.fifo and execve (a startContainer hook, execve
 *     itself) and leaves the container stopped; on success it returns once the process runs
 *   - setgroups failures are errors (except where the user namespace denies setgroups, as
 *     runc); without close_range (seccomp) leaked fds are still kept from the container.
 *     These drive build/runts-init directly with hand-made plans (test/lib/helper.ts).
 *   - /dev: the image's /dev entries are replaced (a /dev/ptmx or /dev/fd symlink to a host
 *     path does not survive), /dev/pts, /dev/shm, /dev/mqueue symlinks to a host directory get
 *     nothing mounted there, and a host node is bind-mounted only once it is checked to be
 *     the planned device
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { encodeFrame, encodePlan, Msg, type PlanOp } from "../../src/helper/protocol.ts";
import {
  BOTH,
  cgroupV2Root,
  containerState,
  hostMounts,
  leftovers,
  ROOTS,
  RT_RUNTS,
  runtime,
  RUNTS,
  waitFor,
} from "../lib/harness";
import { errorFields, runHelper } from "../lib/helper";
import { type Bundle } from "../lib/rootfs";
import { testScope } from "../lib/scope";

const scope = testScope("hd");
const { newBundle, hostPath, defer, expectNoLeftovers, newId } = scope;

/** A process this test started (a namespace holder), SIGKILLed after the test. */
function holdProcess(pid: number): void {
  defer(() => process.kill(pid, "SIGKILL"));
}

/**
 * A process (`sleep`) in a mount namespace of its own, with private propagation, in which
 * each of `covered` is hidden under an empty tmpfs. Returns its pid.
 */
async function mountNamespaceHolder(covered: string[]): Promise<number> {
  const script = `${covered.map((p) => `mount -t tmpfs runts-test-cover ${p} || exit 1; `).join("")}echo ready; exec sleep 600`;
  const child = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  holdProcess(child.pid!);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  await waitFor("the mount namespace holder", () => out.includes("ready") || child.exitCode !== null, 10_000);
  expect(out).toContain("ready");
  return child.pid!;
}

/** A process (`sleep`) in a user namespace of its own mapping root to root, setgroups "deny". */
async function userNamespaceHolder(): Promise<number> {
  const child = spawn("unshare", ["--user", "--map-root-user", "sh", "-c", "echo ready; exec sleep 600"], { stdio: ["ignore", "pipe", "inherit"] });
  holdProcess(child.pid!);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  await waitFor("the user namespace holder", () => out.includes("ready") || child.exitCode !== null, 10_000);
  expect(out).toContain("ready");
  expect(readFileSync(`/proc/${child.pid}/setgroups`, "utf8").trim()).toBe("deny");
  return child.pid!;
}

const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNS = 0x00020000;
const MS_REC = 0x4000;
const MS_SLAVE = 0x80000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/** A hand-made plan's CLONE op: foreground, no cgroup, a fresh state dir and rootfs. */
function cloneOp(flags: number, join: [number, string][] = []): PlanOp {
  const dir = mkdtempSync("/tmp/runts-hd-helper-");
  hostPath(dir);
  mkdirSync(path.join(dir, "state"));
  mkdirSync(path.join(dir, "rootfs/dev"), { recursive: true });
  return { op: "CLONE", args: [flags, "", path.join(dir, "state"), path.join(dir, "rootfs"), 1, new Uint8Array(0), ...join.flat()] };
}

const execOp = (...argv: string[]): PlanOp => ({ op: "EXEC", args: [0, argv.length, ...argv] });

let noCloseRange: string | undefined;
/** test/probe/no-close-range.c, compiled once. */
function noCloseRangeWrapper(): string {
  if (noCloseRange) return noCloseRange;
  const dir = mkdtempSync("/tmp/runts-hd-ncr-");
  const out = path.join(dir, "no-close-range");
  const gcc = spawnSync("gcc", ["-O2", "-Wall", "-o", out, path.join(import.meta.dir, "../probe/no-close-range.c")], { encoding: "utf8" });
  if (gcc.status !== 0) throw new Error(`compiling no-close-range.c failed: ${gcc.stderr}`);
  return (noCloseRange = out);
}

/** A host directory (mode 0755) holding executable scripts name -> body. */
function scripts(files: Record<string, string>): string {
  const dir = mkdtempSync("/tmp/runts-hd-hooks-");
  hostPath(dir);
  chmodSync(dir, 0o755);
  for (const [name, body] of Object.entries(files)) writeFileSync(path.join(dir, name), body, { mode: 0o755 });
  return dir;
}

/** Annotations that make the state JSON a hook gets on stdin ~200 KiB, over a pipe's 64 KiB. */
const BIG_ANNOTATIONS = { "org.runts.test.big": "x".repeat(200 * 1024) };

describe("hardening", () => {
  afterAll(() => {
    if (noCloseRange) rmSync(path.dirname(noCloseRange), { recursive: true, force: true });
  });

  // ---- host paths before setns -------------------------------------------------------------------

  test("joining a mount namespace in which the state dir and the cgroup v2 root are covered: create works, the init is in its cgroup (as runc)", async () => {
    const cgroupRoot = cgroupV2Root();
    for (const rt of BOTH) {
      const holder = await mountNamespaceHolder(["/run", cgroupRoot]);
      const bundle = newBundle({
        config: (c) => {
          c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === "mount" ? { type: "mount", path: `/proc/${holder}/ns/mnt` } : n));
          // Bind sources (here the cgroup dir) are resolved in the container's mount namespace, as runc does.
          c.mounts = c.mounts.filter((m: any) => m.destination !== "/sys/fs/cgroup");
          c.process.args = ["/bin/probe", "pause"];
        },
      });
      const id = newId(rt);
      const r = runtime(rt.bin, ["--root", rt.root, "create", "--bundle", bundle.dir, id]);
      expect({ rt: rt.name, code: r.code, stderr: r.stderr }).toEqual({ rt: rt.name, code: 0, stderr: "" });
      const pid = containerState(rt.bin, rt.root, id)?.pid;
      expect(pid).toBeGreaterThan(0);
      expect({ rt: rt.name, cgroup: readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").filter((l) => l.startsWith("0::")) }).toEqual({
        rt: rt.name,
        cgroup: [`0::/${id}`],
      });
      expect(runtime(rt.bin, ["--root", rt.root, "delete", "--force", id]).code).toBe(0);
    }
    expectNoLeftovers();
  });

  // ---- hooks that do not read their stdin ------------------------------------------------------

  test("createContainer hooks that exit 0 without reading a ~200 KiB state succeed, even one whose child keeps its stdin open", () => {
    const dir = scripts({
      "noread.sh": "#!/bin/sh\nexit 0\n",
      // The pipe keeps a reader that never reads: only the hook's exit can end the write.
      "holder.sh": "#!/bin/sh\nexec 3<&0\n/bin/sleep 600 <&3 3<&- >/dev/null 2>&1 &\nexit 0\n",
    });
    const bundle = newBundle({
      config: (c) => {
        c.annotations = BIG_ANNOTATIONS;
        c.hooks = { createContainer: [{ path: path.join(dir, "noread.sh") }, { path: path.join(dir, "holder.sh") }] };
      },
    });
    const id = newId(RT_RUNTS);
    const r = runtime(RUNTS, ["--root", ROOTS.runts, "create", "--bundle", bundle.dir, id]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(containerState(RUNTS, ROOTS.runts, id)?.status).toBe("created");
    expect(runtime(RUNTS, ["--root", ROOTS.runts, "delete", "--force", id]).code).toBe(0);
    expectNoLeftovers();
  });

  test("a createContainer hook that sleeps without reading a ~200 KiB state is killed at its timeout (1 s): create fails naming it, nothing left", async () => {
    const dir = scripts({ "sleep.sh": "#!/bin/sh\nexec /bin/sleep 30\n" });
    const bundle = newBundle({
      config: (c) => {
        c.annotations = BIG_ANNOTATIONS;
        c.hooks = { createContainer: [{ path: path.join(dir, "sleep.sh"), timeout: 1 }] };
      },
    });
    const id = newId(RT_RUNTS);
    const t0 = Date.now();
    const r = runtime(RUNTS, ["--root", ROOTS.runts, "create", "--bundle", bundle.dir, id]);
    const elapsed = Date.now() - t0;
    expect({ code: r.code === 0 ? 0 : "non-zero", timedOut: r.timedOut }).toEqual({ code: "non-zero", timedOut: false });
    expect(r.stderr).toContain("createContainer hook #0");
    expect(r.stderr).toMatch(/timed out/);
    expect(elapsed).toBeLessThan(6_000);
    expect(existsSync(path.join(ROOTS.runts, id))).toBe(false);
    await waitFor("no leftovers", () => leftovers(id, ROOTS.runts).length === 0, 5_000).catch(() => undefined);
    expectNoLeftovers();
  });

  // ---- start reports failures between exec.fifo and execve ---------------------------------------

  /** A bundle whose rootfs holds /hook.sh exiting with `exit`, run as startContainer hook #0. */
  function startHookBundle(exit: number): Bundle {
    const b = newBundle({
      config: (c) => {
        c.hooks = { startContainer: [{ path: "/hook.sh", args: ["hook.sh"] }] };
        c.process.args = ["/bin/probe", "pause"];
      },
    });
    writeFileSync(path.join(b.rootfs, "hook.sh"), `#!/bin/sh\nexit ${exit}\n`, { mode: 0o755 });
    return b;
  }

  const runts = (args: string[]) => runtime(RUNTS, ["--root", ROOTS.runts, ...args]);

  test("a failing startContainer hook fails start naming it; the container is then stopped and delete removes everything", () => {
    const b = startHookBundle(3);
    const id = newId(RT_RUNTS);
    expect(runts(["create", "--bundle", b.dir, id]).code).toBe(0);
    const started = runts(["start", id]);
    expect(started.code).not.toBe(0);
    expect(started.stderr).toContain("startContainer hook #0");
    expect(started.stderr).toContain("exit status 3");
    expect(containerState(RUNTS, ROOTS.runts, id)?.status).toBe("stopped");
    const deleted = runts(["delete", id]);
    expect({ code: deleted.code, stderr: deleted.stderr }).toEqual({ code: 0, stderr: "" });
    expectNoLeftovers();
  });

  test("a passing startContainer hook: start succeeds and returns once the container's process runs", () => {
    const b = startHookBundle(0);
    const id = newId(RT_RUNTS);
    expect(runts(["create", "--bundle", b.dir, id]).code).toBe(0);
    const pid = containerState(RUNTS, ROOTS.runts, id)?.pid;
    const started = runts(["start", id]);
    expect({ code: started.code, stderr: started.stderr }).toEqual({ code: 0, stderr: "" });
    // start waited for execve: the init is already the container's program
    expect(readlinkSync(`/proc/${pid}/exe`)).toBe("/bin/probe");
    expect(containerState(RUNTS, ROOTS.runts, id)?.status).toBe("running");
    expect(runts(["delete", "--force", id]).code).toBe(0);
    expectNoLeftovers();
  });

  test("an execve that fails after exec.fifo (exec format error) fails start; the container is then stopped", () => {
    const b = newBundle({ config: (c) => (c.process.args = ["/not-a-binary"]) });
    writeFileSync(path.join(b.rootfs, "not-a-binary"), "garbage, not an executable\n", { mode: 0o755 });
    const id = newId(RT_RUNTS);
    expect(runts(["create", "--bundle", b.dir, id]).code).toBe(0);
    const started = runts(["start", id]);
    expect(started.code).not.toBe(0);
    expect(started.stderr).toContain("/not-a-binary");
    expect(started.stderr).toContain("ENOEXEC");
    expect(containerState(RUNTS, ROOTS.runts, id)?.status).toBe("stopped");
    expect(runts(["delete", id]).code).toBe(0);
    expectNoLeftovers();
  });

  // ---- setgroups and close_range ----------------------------------------------------------------

  test("in a new user namespace the init runs nothing until runts answers MSG_IDMAPPED; without maps it cannot become root there", async () => {
    const unanswered = await runHelper(encodePlan([cloneOp(CLONE_NEWUSER), { op: "USER", args: [0, 0] }]));
    expect({ code: unanswered.code, types: unanswered.messages.map((m) => m.type) }).toEqual({ code: 1, types: [Msg.PID] });
    const plan = encodePlan([cloneOp(CLONE_NEWUSER), { op: "USER", args: [0, 0] }]);
    const answered = await runHelper(new Uint8Array([...plan, ...encodeFrame(Msg.IDMAPPED, [])]));
    expect({ code: answered.code, types: answered.messages.map((m) => m.type) }).toEqual({ code: 1, types: [Msg.PID, Msg.ERROR] });
    expect(errorFields(answered.messages[1]!)).toEqual(["become root in the user namespace", "setresgid", 22, ""]);
  });

  test('in a user namespace whose setgroups is "deny" the groups are left as they are, as runc does', async () => {
    const holder = await userNamespaceHolder();
    const r = await runHelper(
      encodePlan([cloneOp(0, [[CLONE_NEWUSER, `/proc/${holder}/ns/user`]]), { op: "USER", args: [0, 0, 5] }, execOp("/bin/cat", "/proc/self/status")]),
    );
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const groups = /^Groups:\s*(.*)$/m.exec(r.stdout)?.[1]?.trim().split(/\s+/).filter(Boolean);
    expect(groups).toBeDefined();
    expect(groups).not.toContain("5");
  });

  for (const variant of ["with close_range", "with close_range failing ENOSYS (seccomp)"] as const) {
    test(`a leaked fd above the preserved ones never reaches the container's process, ${variant}`, async () => {
      const leaked = openSync("/dev/null", "r");
      try {
        const r = await runHelper(encodePlan([cloneOp(0), execOp("/bin/sh", "-c", "if [ -e /proc/self/fd/4 ]; then echo leaked; else echo closed; fi")]), {
          extraFds: [leaked],
          wrapper: variant === "with close_range" ? [] : [noCloseRangeWrapper()],
        });
        expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: "closed\n", stderr: "" });
      } finally {
        closeSync(leaked);
      }
    });
  }

  // ---- /dev ---------------------------------------------------------------------------------------

  const withoutDevMount = (c: any) => (c.mounts = c.mounts.filter((m: any) => m.destination !== "/dev"));

  for (const variant of ["the default /dev tmpfs", "no /dev mount"] as const) {
    test(`the image's /dev/ptmx, /dev/fd, /dev/stdin symlinks to host paths are replaced as runc makes them, with ${variant}; no host file is touched`, () => {
      const dir = mkdtempSync("/tmp/runts-hd-secret-");
      hostPath(dir);
      const secret = path.join(dir, "shadow");
      writeFileSync(secret, "host secret\n", { mode: 0o600 });
      const before = statSync(secret);
      const links = ["/dev/ptmx", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr"];
      const bundle = newBundle({
        config: (c) => {
          if (variant === "no /dev mount") withoutDevMount(c);
          c.process.args = ["/bin/probe", "stat", ...links];
        },
      });
      symlinkSync(secret, path.join(bundle.rootfs, "dev/ptmx"));
      symlinkSync("/etc", path.join(bundle.rootfs, "dev/fd"));
      symlinkSync(secret, path.join(bundle.rootfs, "dev/stdin"));
      writeFileSync(path.join(bundle.rootfs, "dev/stdout"), "an image file\n");
      symlinkSync(secret, path.join(bundle.rootfs, "dev/stderr"));
      const id = newId(RT_RUNTS);
      const r = runtime(RUNTS, ["--root", ROOTS.runts, "run", "--bundle", bundle.dir, id]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
      const got = Object.fromEntries((JSON.parse(r.stdout) as any[]).map((e) => [e.path, `${e.type} ${e.target ?? ""}`]));
      expect(got).toEqual({
        "/dev/ptmx": "link pts/ptmx",
        "/dev/fd": "link /proc/self/fd",
        "/dev/stdin": "link /proc/self/fd/0",
        "/dev/stdout": "link /proc/self/fd/1",
        "/dev/stderr": "link /proc/self/fd/2",
      });
      const after = statSync(secret);
      expect(readFileSync(secret, "utf8")).toBe("host secret\n");
      expect({ mode: after.mode, uid: after.uid, size: after.size, mtime: after.mtimeMs }).toEqual({
        mode: before.mode,
        uid: before.uid,
        size: before.size,
        mtime: before.mtimeMs,
      });
      expect(hostMounts().filter((m) => m.mountPoint.startsWith(dir))).toEqual([]);
      expectNoLeftovers();
    });
  }

  for (const variant of ["the default /dev tmpfs", "no /dev mount"] as const) {
    test(`an image whose /dev/pts, /dev/shm and /dev/mqueue are symlinks to a host directory gets nothing mounted there, with ${variant}`, () => {
      for (const rt of variant === "no /dev mount" ? [RT_RUNTS] : BOTH) {
        const targets = ["pts", "shm", "mqueue"].map((n) => {
          const d = mkdtempSync(`/tmp/runts-hd-dev${n}-`);
          hostPath(d);
          return d;
        });
        const bundle = newBundle({ config: (c) => variant === "no /dev mount" && withoutDevMount(c) });
        for (const [i, n] of ["pts", "shm", "mqueue"].entries()) {
          rmSync(path.join(bundle.rootfs, "dev", n), { recursive: true, force: true });
          symlinkSync(targets[i]!, path.join(bundle.rootfs, "dev", n));
        }
        const id = newId(rt);
        const r = runtime(rt.bin, ["--root", rt.root, "run", "--bundle", bundle.dir, id]);
        expect({ rt: rt.name, code: r.code, stderr: r.stderr }).toMatchObject({ rt: rt.name, code: 0 });
        for (const t of targets) {
          expect({ rt: rt.name, target: t, mounts: hostMounts().filter((m) => m.mountPoint.startsWith(t)).length, entries: readdirSync(t) }).toEqual({
            rt: rt.name,
            target: t,
            mounts: 0,
            entries: [],
          });
        }
      }
      expectNoLeftovers();
    });
  }

  /** A plan that sets up a rootfs in a new mount namespace, binds host /dev/null as planned, then reports READY. */
  const bindDevPlan = (type: number, major: number, minor: number): Uint8Array =>
    encodePlan([
      cloneOp(CLONE_NEWNS),
      { op: "ROOTFS", args: [MS_SLAVE | MS_REC] },
      { op: "BIND_DEV", args: ["/dev/null", "/dev/null", type, major, minor] },
      { op: "READY", args: [] },
    ]);

  test("BIND_DEV binds a host node only if it is the planned device: type and major:minor are checked", async () => {
    const ok = await runHelper(bindDevPlan(S_IFCHR, 1, 3));
    expect({ code: ok.code, types: ok.messages.map((m) => m.type) }).toEqual({ code: 0, types: [Msg.PID, Msg.READY] });
    for (const [type, major, minor, detail] of [
      [S_IFCHR, 1, 5, "not the char device 1:5 the plan names"],
      [S_IFBLK, 1, 3, "not the block device 1:3 the plan names"],
    ] as const) {
      const r = await runHelper(bindDevPlan(type, major, minor));
      expect({ code: r.code, signal: r.signal, types: r.messages.map((m) => m.type) }).toEqual({ code: 1, signal: null, types: [Msg.PID, Msg.ERROR] });
      expect(errorFields(r.messages[1]!)).toEqual(["bind device", "/dev/null", 0, detail]);
    }
  });

  test("in a joined user namespace the host's device nodes are bound, and only when they are the configured device", async () => {
    const holder = await userNamespaceHolder();
    const userns = (c: any) => {
      c.linux.namespaces.push({ type: "user", path: `/proc/${holder}/ns/user` });
      c.mounts = c.mounts.filter((m: any) => m.destination !== "/sys/fs/cgroup");
      for (const m of c.mounts) m.options = m.options?.filter((o: string) => o !== "gid=5"); // gid 5 is not mapped
      c.process.args = ["/bin/probe", "stat", "/dev/null", "/dev/zero"];
    };
    const good = newBundle({ config: userns });
    const id = newId(RT_RUNTS);
    const r = runtime(RUNTS, ["--root", ROOTS.runts, "run", "--bundle", good.dir, id]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect((JSON.parse(r.stdout) as any[]).map((e) => `${e.path} ${e.type} ${e.major}:${e.minor}`)).toEqual(["/dev/null chr 1:3", "/dev/zero chr 1:5"]);

    // the host's /dev/zero is 1:5, not the 1:3 the config asks for
    const bad = newBundle({
      config: (c) => {
        userns(c);
        c.linux.devices = [{ path: "/dev/zero", type: "c", major: 1, minor: 3 }];
      },
    });
    const badId = newId(RT_RUNTS);
    const b = runtime(RUNTS, ["--root", ROOTS.runts, "create", "--bundle", bad.dir, badId]);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toContain('bind device "/dev/zero": not the char device 1:3 the plan names');
    expectNoLeftovers();
  });
});

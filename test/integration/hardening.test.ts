/**
 * Hardening found in review, each test failing on a runtime without the fix:
 *   - host paths (state dir, cgroup, rootfs) are opened before joining configured namespaces
 *   - createContainer hooks that do not read their stdin (the state JSON, here made bigger
 *     than a pipe buffer) neither kill the init nor block it past the hook's timeout
 *   - `start` reports what fails between exec.fifo and execve (a startContainer hook, execve
 *     itself) and leaves the container stopped; on success it returns once the process runs
 */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  cgroupV2Root,
  containerState,
  forceCleanup,
  leftovers,
  requireRoot,
  ROOTS,
  RUNC,
  RUNTS,
  runtime,
  uniqueId,
  waitFor,
} from "../lib/harness";
import { type Bundle, type BundleOptions, makeBundle } from "../lib/rootfs";

interface Runtime {
  name: "runts" | "runc";
  bin: string;
  root: string;
}
const RT_RUNTS: Runtime = { name: "runts", bin: RUNTS, root: ROOTS.runts };
const RT_RUNC: Runtime = { name: "runc", bin: RUNC, root: ROOTS.runc };
const BOTH = [RT_RUNC, RT_RUNTS];

const containers: { rt: Runtime; id: string }[] = [];
const bundles: Bundle[] = [];
/** Processes this test started (namespace holders); SIGKILLed after the test. */
const holders: number[] = [];
/** Host directories this test created; removed after the test. */
const hostDirs: string[] = [];

function newId(rt: Runtime): string {
  const id = uniqueId("hd");
  containers.push({ rt, id });
  return id;
}

function newBundle(opts: BundleOptions = {}): Bundle {
  const b = makeBundle(opts);
  bundles.push(b);
  return b;
}

function expectNoLeftovers(): void {
  for (const { rt, id } of containers) {
    expect({ runtime: rt.name, id, leftovers: leftovers(id, rt.root) }).toEqual({ runtime: rt.name, id, leftovers: [] });
  }
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
  holders.push(child.pid!);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  await waitFor("the mount namespace holder", () => out.includes("ready") || child.exitCode !== null, 10_000);
  expect(out).toContain("ready");
  return child.pid!;
}

/** A host directory (mode 0755) holding executable scripts name -> body. */
function scripts(files: Record<string, string>): string {
  const dir = mkdtempSync("/tmp/runts-hd-hooks-");
  hostDirs.push(dir);
  chmodSync(dir, 0o755);
  for (const [name, body] of Object.entries(files)) writeFileSync(path.join(dir, name), body, { mode: 0o755 });
  return dir;
}

/** Annotations that make the state JSON a hook gets on stdin ~200 KiB, over a pipe's 64 KiB. */
const BIG_ANNOTATIONS = { "org.runts.test.big": "x".repeat(200 * 1024) };

describe("hardening", () => {
  beforeAll(() => requireRoot());

  afterEach(() => {
    for (const { rt, id } of containers.splice(0).reverse()) forceCleanup(rt.bin, rt.root, id);
    for (const pid of holders.splice(0)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    for (const b of bundles.splice(0)) b.cleanup();
    for (const d of hostDirs.splice(0)) rmSync(d, { recursive: true, force: true });
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
});

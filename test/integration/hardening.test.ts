/**
 * Hardening found in review, each test failing on a runtime without the fix:
 *   - host paths (state dir, cgroup, rootfs) are opened before joining configured namespaces
 */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
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
});

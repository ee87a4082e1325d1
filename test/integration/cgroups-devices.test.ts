/**
 * Device control (issue 8.1): runc's default allow list plus the config's rules, enforced
 * by the v1 devices controller and, on the unified cgroup, by a device BPF program. By
 * effect, with a loop device over a canary file: a block node the image ships, or one the
 * container makes with CAP_MKNOD, cannot be opened; /dev/null and friends still work. runc
 * is the oracle.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BOTH, forceCleanup, leftovers, RT_RUNTS, type Runtime, runtime, waitFor } from "../lib/harness";
import type { Bundle } from "../lib/rootfs";
import { testScope } from "../lib/scope";

const CANARY = "CANARY-0123456789";
let dir = "";
let loop = "";
let minor = 0;
const scope = testScope("dev");

beforeAll(() => {
  dir = mkdtempSync("/tmp/runts-devices-");
  const file = path.join(dir, "canary.img");
  writeFileSync(file, CANARY.padEnd(1 << 20, "\0"));
  loop = execFileSync("losetup", ["--find", "--show", file], { encoding: "utf8" }).trim();
  minor = Number(BigInt(statSync(loop, { bigint: true }).rdev) & 0xffn);
  expect(statSync(loop).rdev >> 8).toBe(7);
});
afterAll(() => {
  if (loop) execFileSync("losetup", ["-d", loop]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const canaryIntact = () => expect(readFileSync(path.join(dir, "canary.img")).subarray(0, CANARY.length).toString()).toBe(CANARY);

/** A bundle whose image ships /loopdev, a `b 7:N` node of the canary's loop device. */
function bundle(script: string, tweak?: (c: any) => void): Bundle {
  const b = scope.newBundle({
    config: (c) => {
      c.process.args = ["/bin/sh", "-c", script];
      tweak?.(c);
    },
  });
  execFileSync("mknod", [path.join(b.rootfs, "loopdev"), "b", "7", String(minor)]);
  return b;
}

function run(r: Runtime, b: Bundle): { out: string; id: string } {
  const id = scope.newId(r);
  const res = runtime(r.bin, ["--root", r.root, "run", "-b", b.dir, id]);
  expect(res.stderr).toBe("");
  return { out: res.stdout + res.stderr, id };
}

const PROBE = [
  "head -c 6 /loopdev 2>&1; echo read=$?",
  "echo x 2>&1 > /loopdev; echo write=$?",
  "head -c 1 /dev/null && echo null-ok",
  "head -c 4 /dev/zero | wc -c",
  "echo x > /dev/full 2>/dev/null; echo full=$?",
].join("; ");

const addMknod = (c: any) => {
  for (const set of ["bounding", "effective", "permitted"]) c.process.capabilities[set].push("CAP_MKNOD");
};

describe("device control", () => {
  test("a block node shipped in the image cannot be read or written; allowed devices work (as runc)", () => {
    const outs: Record<string, string> = {};
    for (const r of BOTH) outs[r.name] = run(r, bundle(PROBE)).out;
    expect(outs.runts).toEqual(outs.runc!);
    expect(outs.runts).toContain("Operation not permitted");
    expect(outs.runts).toContain("read=1");
    expect(outs.runts).toContain("write=1");
    expect(outs.runts).toContain("null-ok");
    expect(outs.runts).toMatch(/\b4\n/);
    expect(outs.runts).toContain("full=1"); // ENOSPC: /dev/full opened
    expect(outs.runts).not.toContain("CANARY");
    canaryIntact();
  });

  test("with CAP_MKNOD the container makes the node but cannot open it (as runc)", () => {
    const script = `mknod /dev/l b 7 ${minor} && echo made; head -c 6 /dev/l 2>&1; echo read=$?; echo x 2>&1 > /dev/l; echo write=$?`;
    const outs: Record<string, string> = {};
    for (const r of BOTH) outs[r.name] = run(r, bundle(script, addMknod)).out;
    expect(outs.runts).toEqual(outs.runc!);
    expect(outs.runts).toContain("made");
    expect(outs.runts).toContain("read=1");
    expect(outs.runts).toContain("write=1");
    canaryIntact();
  });

  test("a config rule allowing the device read-only makes it readable, not writable; a config deny cannot take a default away (as runc)", () => {
    const tweak = (c: any) => {
      c.linux.resources = {
        devices: [
          { allow: false, access: "rwm" },
          { allow: true, type: "b", major: 7, minor, access: "r" },
          { allow: false, type: "c", major: 1, minor: 5, access: "rwm" },
        ],
      };
    };
    // A config rule does not take a default away (runc appends its list after the config's).
    const outs: Record<string, string> = {};
    for (const r of BOTH) outs[r.name] = run(r, bundle("head -c 6 /loopdev; echo; (echo x > /loopdev) 2>/dev/null; echo write=$?; head -c 2 /dev/zero | wc -c", tweak)).out;
    expect(outs.runts).toEqual(outs.runc!);
    expect(outs.runts).toContain("CANARY");
    expect(outs.runts).toContain("write=1");
    expect(outs.runts).toMatch(/\b2\n/);
    canaryIntact();
  });

  test("the v1 devices list is runc's", () => {
    const lists: Record<string, string[]> = {};
    for (const r of BOTH) {
      const b = bundle("sleep 30");
      const id = scope.newId(r);
      b.config.linux.cgroupsPath = `/${id}`;
      b.write();
      expect(runtime(r.bin, ["--root", r.root, "create", "-b", b.dir, id]).code).toBe(0);
      lists[r.name] = readFileSync(`/sys/fs/cgroup/devices/${id}/devices.list`, "utf8").trim().split("\n").sort();
      forceCleanup(r.bin, r.root, id);
    }
    expect(lists.runts).toEqual(lists.runc!);
  });

  test("the device program loads while signals keep arriving (the verifier's EAGAIN on a pending signal)", () => {
    // Bun's sampling profiler sends runts a signal every 20 µs: a bpf(BPF_PROG_LOAD) that a
    // signal interrupts fails with EAGAIN. Before the fix, 3 creates in 10 failed so.
    const prof = scope.hostDir("prof");
    const b = bundle("true");
    for (let i = 0; i < 5; i++) {
      const id = scope.newId(RT_RUNTS);
      const res = runtime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "create", "-b", b.dir, id], {
        env: { BUN_OPTIONS: `--cpu-prof --cpu-prof-interval=20 --cpu-prof-dir=${prof}` },
      });
      expect(res.stderr).toBe("");
      expect(res.code).toBe(0);
      forceCleanup(RT_RUNTS.bin, RT_RUNTS.root, id);
      expect(leftovers(id, RT_RUNTS.root)).toEqual([]);
    }
  });

  test("the BPF program on the unified cgroup denies by itself (v1 devices opened up from the host)", async () => {
    const out = scope.hostDir("out");
    const b = bundle("(head -c 6 /loopdev 2>&1; echo read=$?; head -c 1 /dev/null && echo null-ok) > /out/result", (c) =>
      c.mounts.push({ destination: "/out", type: "bind", source: out, options: ["rbind", "rw"] }),
    );
    const id = scope.newId(RT_RUNTS);
    expect(runtime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "create", "-b", b.dir, id]).code).toBe(0);
    writeFileSync(`/sys/fs/cgroup/devices/${id}/devices.allow`, "a");
    expect(readFileSync(`/sys/fs/cgroup/devices/${id}/devices.list`, "utf8").trim()).toBe("a *:* rwm");
    expect(runtime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "start", id]).code).toBe(0);
    const result = await waitFor("the container's result", () => {
      const t = existsSync(`${out}/result`) ? readFileSync(`${out}/result`, "utf8") : "";
      return t.includes("null-ok") ? t : null;
    });
    expect(result).toContain("Operation not permitted");
    expect(result).toContain("read=1");
    canaryIntact();
    forceCleanup(RT_RUNTS.bin, RT_RUNTS.root, id);
    expect(leftovers(id, RT_RUNTS.root)).toEqual([]);
  });
});

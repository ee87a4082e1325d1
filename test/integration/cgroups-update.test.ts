/**
 * `update` (runc's flags, -r FILE and -r -) and `events` (--stats as runc's JSON, streaming
 * with --interval, OOM events) on this hybrid host, against runc.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BOTH, containerState, RT_RUNTS, type Runtime, runtime, spawnRuntime, waitFor } from "../lib/harness";
import { testScope } from "../lib/scope";

const scope = testScope("upd");

function started(r: Runtime, args: string[], resources: unknown, tweak?: (c: any) => void) {
  const id = scope.newId(r);
  const b = scope.newBundle({
    config: (c) => {
      c.process.args = args;
      c.linux.cgroupsPath = `/${id}`;
      c.linux.resources = resources;
      tweak?.(c);
    },
  });
  const rt = (a: string[], input?: string) => runtime(r.bin, ["--root", r.root, ...a], { input });
  const res = rt(["run", "-d", "-b", b.dir, id]);
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  return { id, b, rt };
}

const cg = (ctrl: string, id: string, file: string) => readFileSync(`/sys/fs/cgroup/${ctrl}/${id}/${file}`, "utf8").trim();
const FILES: [string, string][] = [
  ["memory", "memory.limit_in_bytes"],
  ["memory", "memory.soft_limit_in_bytes"],
  ["memory", "memory.memsw.limit_in_bytes"],
  ["cpu", "cpu.shares"],
  ["cpu", "cpu.cfs_quota_us"],
  ["cpu", "cpu.cfs_period_us"],
  ["cpuset", "cpuset.cpus"],
  ["pids", "pids.max"],
  ["blkio", "blkio.bfq.weight"],
];
const INITIAL = { memory: { limit: 64 << 20, swap: 128 << 20 }, pids: { limit: 50 }, cpu: { shares: 512 } };

/** The key paths of a JSON value, e.g. "data.memory.usage.limit" (map contents left out). */
function shape(v: unknown, prefix = ""): string[] {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return [prefix];
  return Object.entries(v).flatMap(([k, x]) => (prefix.endsWith("raw") ? [] : shape(x, prefix ? `${prefix}.${k}` : k)));
}

describe("update", () => {
  test("runc's flags: every file as runc writes it (memory+swap raised together)", () => {
    const flags = ["--memory", "100m", "--memory-swap", "300m", "--memory-reservation", "50m", "--cpu-quota", "30000", "--cpu-period", "100000", "--cpu-share", "256", "--pids-limit", "77", "--blkio-weight", "400", "--cpuset-cpus", "0", "--kernel-memory", "10m"];
    const seen: Record<string, Record<string, string>> = {};
    for (const r of BOTH) {
      const c = started(r, ["/bin/probe", "sleep", "60"], INITIAL);
      const u = c.rt(["update", ...flags, c.id]);
      expect([r.name, u.stderr]).toEqual([r.name, expect.not.stringContaining("error")]);
      expect(u.code).toBe(0);
      seen[r.name] = Object.fromEntries(FILES.map(([ctrl, f]) => [f, cg(ctrl, c.id, f)]));
    }
    expect(seen.runts).toEqual(seen.runc!);
    expect(seen.runts!["memory.limit_in_bytes"]).toBe(String(100 << 20));
    expect(seen.runts!["pids.max"]).toBe("77");
  });

  test("-r FILE and -r - (podman's form); later updates keep earlier values", () => {
    const c = started(RT_RUNTS, ["/bin/probe", "sleep", "60"], INITIAL);
    const file = path.join(c.b.dir, "res.json");
    writeFileSync(file, JSON.stringify({ memory: { limit: 32 << 20 }, cpu: { quota: 20000, period: 100000 } }));
    expect(c.rt(["update", "-r", file, c.id]).code).toBe(0);
    expect(cg("memory", c.id, "memory.limit_in_bytes")).toBe(String(32 << 20));
    expect(cg("cpu", c.id, "cpu.cfs_quota_us")).toBe("20000");
    expect(c.rt(["update", "--resources=-", c.id], JSON.stringify({ pids: { limit: 9 } })).code).toBe(0);
    expect(cg("pids", c.id, "pids.max")).toBe("9");
    expect(cg("memory", c.id, "memory.limit_in_bytes")).toBe(String(32 << 20));
    expect(cg("cpu", c.id, "cpu.shares")).toBe("512");
  });

  test("refused clearly: Intel RDT, bad sizes, unknown keys, -r with flags, a stopped container", async () => {
    const c = started(RT_RUNTS, ["/bin/probe", "sleep", "60"], INITIAL);
    const cases: [string[], string, string?][] = [
      [["--l3-cache-schema", "L3:0=f"], "--l3-cache-schema: Intel RDT is not supported"],
      [["--mem-bw-schema", "MB:0=50"], "--mem-bw-schema: Intel RDT is not supported"],
      [["--memory", "lots"], '--memory: "lots" is not a size'],
      [["--pids-limit", "-7"], "--pids-limit"],
      [["-r", "-"], 'unknown resource "bogus"', JSON.stringify({ bogus: 1 })],
      [["-r", "-"], "unknown resource memory.limitt", JSON.stringify({ memory: { limitt: 1 } })],
      [["-r", "-", "--memory", "1m"], "--resources replaces every other flag"],
      [["--cpuset-cpus", "x"], "linux.resources.cpu.cpus"],
    ];
    for (const [flags, message, input] of cases) {
      const r = c.rt(["update", ...flags, c.id], input);
      expect([flags, r.code === 0]).toEqual([flags, false]);
      expect(r.stderr).toContain(message);
    }
    expect(cg("memory", c.id, "memory.limit_in_bytes")).toBe(String(64 << 20));
    expect(c.rt(["kill", c.id, "KILL"]).code).toBe(0);
    await waitFor("stopped", () => containerState(RT_RUNTS.bin, RT_RUNTS.root, c.id)?.status === "stopped");
    const r = c.rt(["update", "--memory", "1m", c.id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("container is stopped");
  });

  test("checkBeforeUpdate refuses a limit below the current usage", async () => {
    const c = started(RT_RUNTS, ["/bin/sh", "-c", "head -c 8388608 /dev/zero > /dev/shm/fill; sleep 60"], { memory: { limit: 64 << 20, checkBeforeUpdate: true } });
    await waitFor("usage", () => Number(cg("memory", c.id, "memory.usage_in_bytes")) > 8 << 20);
    const r = c.rt(["update", "--memory", "2m", c.id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("linux.resources.memory.limit: update: the new limit 2097152 is below the current usage");
    expect(cg("memory", c.id, "memory.limit_in_bytes")).toBe(String(64 << 20));
  });
});

describe("events", () => {
  test("--stats: one JSON line in runc's shape", () => {
    const shapes: Record<string, string[]> = {};
    const values: Record<string, any> = {};
    for (const r of BOTH) {
      const c = started(r, ["/bin/probe", "sleep", "60"], { ...INITIAL, cpu: { shares: 512, cpus: "0" } });
      const e = c.rt(["events", "--stats", c.id]);
      expect(e.code).toBe(0);
      expect(e.stdout.trim().split("\n")).toHaveLength(1);
      const ev = JSON.parse(e.stdout);
      shapes[r.name] = shape(ev).sort();
      values[r.name] = ev;
      expect(ev.id).toBe(c.id);
    }
    expect(shapes.runts).toEqual(shapes.runc!);
    const v = values.runts.data;
    expect(v.memory.usage.limit).toBe(64 << 20);
    expect(v.memory.swap.limit).toBe(128 << 20);
    expect(v.pids).toEqual({ current: 1, limit: 50 });
    expect(v.cpuset.cpus).toEqual([0]);
    expect(v.cpu.usage.total).toBeGreaterThan(0);
    expect(values.runts.data.memory.kernel.limit).toBe(values.runc.data.memory.kernel.limit);
  });

  test("streaming: stats every --interval, an OOM event when update's lower limit is hit, and the end with the container", async () => {
    const c = started(RT_RUNTS, ["/bin/sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived"], INITIAL, (cfg) => (cfg.root.readonly = false));
    const ev = spawnRuntime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "events", "--interval", "200ms", c.id], { timeoutMs: 30_000 });
    scope.release(() => ev.signal("SIGKILL"));
    await waitFor("two stats events", () => ev.stdoutSoFar().split("\n").filter((l) => l.includes('"stats"')).length >= 2);
    expect(c.rt(["update", "--memory", "16m", "--memory-swap", "16m", c.id]).code).toBe(0);
    writeFileSync(path.join(c.b.rootfs, "tmp/go"), "");
    const res = await ev.result;
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === "oom")).toEqual([{ type: "oom", id: c.id }]);
    expect(lines.filter((l) => l.type === "stats").length).toBeGreaterThanOrEqual(2);
  });
});

/**
 * Resource limits through the managers (cgroupfs driver; on this hybrid host the v1
 * controllers), with runts and with runc (the oracle) in the same test: podman --memory,
 * --pids-limit, --cpus, update and stats; ctr --memory-limit and metrics; docker --memory,
 * --pids-limit, update and stats. Limits are read from the containers' cgroups on the host, and
 * a memory limit is shown in force (a 100 MB buffer is OOM-killed under 64 MB).
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { type Runtime, waitFor } from "../lib/harness";
import { check, compareRuntimes, compareRuntimesAsync, managersSuite } from "../lib/managers";

const m = managersSuite("cgroups", ["podman", "containerd", "docker"]);

const hostFile = (p: string) => readFileSync(p, "utf8").trim();

/** The memory, pids and cpu limits of cgroup `cg` (cgroup v1 controllers, as this host has). */
const hostLimits = (cg: string) =>
  ["memory/{}/memory.limit_in_bytes", "pids/{}/pids.max", "cpu/{}/cpu.cfs_quota_us"].map((f) => hostFile(`/sys/fs/cgroup/${f.replace("{}", cg)}`));

describe("resource limits through the managers, runts compared with runc", () => {
  test("podman --memory --pids-limit --cpus: the limits in the container's cgroups", () => {
    const got = compareRuntimes((rt: Runtime) => {
      const id = check(m.podman.with(rt, ["run", "-d", "--network", "none", "--memory", "64m", "--pids-limit", "50", "--cpus", "0.5", "busybox", "sleep", "1000"]), "run -d").stdout.trim();
      m.sb.tracked.add(id);
      try {
        return hostLimits(`libpod_parent/libpod-${id}`);
      } finally {
        m.podman.raw(["rm", "-f", "-t", "0", id]);
      }
    });
    expect(got).toEqual(["67108864", "50", "50000"]);
  });

  test("a memory limit in force: podman, ctr and docker OOM-kill a 100 MB buffer under 64 MB", () => {
    const HOG = ["dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1"];
    const got = compareRuntimes((rt: Runtime) => [
      m.podman.with(rt, ["run", "--rm", "--network", "none", "--memory", "64m", "--memory-swap", "64m", "busybox", ...HOG]).code,
      m.ctrd.ctrRun(rt, ["--rm", "--memory-limit", "67108864", "docker.io/library/busybox:latest", `hog-${rt.name}-${process.pid}`, ...HOG]).code,
      m.docker.run(rt, ["--rm", "--network", "none", "--memory", "64m", "--memory-swap", "64m", "busybox", ...HOG]).code,
    ]);
    expect(got).toEqual([137, 137, 137]);
  });

  test("podman update --memory, stats --no-stream", () => {
    const got = compareRuntimes((rt: Runtime) => {
      const id = check(m.podman.with(rt, ["run", "-d", "--network", "none", "--memory", "64m", "busybox", "sleep", "1000"]), "run -d").stdout.trim();
      m.sb.tracked.add(id);
      try {
        check(m.podman.raw(["update", "--memory", "128m", id]), "update");
        const limit = hostFile(`/sys/fs/cgroup/memory/libpod_parent/libpod-${id}/memory.limit_in_bytes`);
        const stats = check(m.podman.raw(["stats", "--no-stream", "--format", "{{.PIDs}} {{.MemUsage}}", id]), "stats").stdout;
        return { limit, stats: stats.replace(/^(\d+) [\d.]+[kMG]?B \//, "$1 X /").trim() };
      } finally {
        m.podman.raw(["rm", "-f", "-t", "0", id]);
      }
    });
    expect(got.limit).toBe("134217728");
    expect(got.stats).toMatch(/^1 X \/ [\d.]+MB$/);
  });

  test("ctr run --memory-limit: the limit on the host and in task metrics", async () => {
    const got = await compareRuntimesAsync(async (rt: Runtime) => {
      const id = `mem-${rt.name}-${process.pid}`;
      m.sb.tracked.add(id);
      check(m.ctrd.ctrRun(rt, ["-d", "--null-io", "--memory-limit", "67108864", "docker.io/library/busybox:latest", id, "sleep", "1000"]), "ctr run -d");
      try {
        const limit = hostFile(`/sys/fs/cgroup/memory/${m.ctrd.ns}/${id}/memory.limit_in_bytes`);
        const metrics = check(m.ctrd.ctrRaw(["tasks", "metrics", "--format", "json", id]), "metrics").stdout;
        const memLimit = JSON.parse(metrics).memory?.usage?.limit;
        return { limit, memLimit };
      } finally {
        m.ctrd.ctrRaw(["tasks", "kill", "--signal", "SIGKILL", id]);
        await waitFor(`${id} deleted`, () => m.ctrd.ctrRaw(["tasks", "delete", id]).code === 0, 10_000, 100).catch(() => {});
        m.ctrd.ctrRaw(["containers", "delete", id]);
      }
    });
    expect(got).toEqual({ limit: "67108864", memLimit: 67108864 });
  });

  test("docker --memory --pids-limit, update, stats --no-stream", () => {
    const got = compareRuntimes((rt: Runtime) => {
      const id = check(m.docker.run(rt, ["-d", "--network", "none", "--memory", "64m", "--pids-limit", "50", "--cpus", "0.5", "busybox", "sleep", "1000"]), "run -d").stdout.trim();
      m.sb.tracked.add(id);
      try {
        const limits = hostLimits(`${m.docker.cgroupParent}/${id}`);
        check(m.docker.docker(["update", "--memory", "128m", "--memory-swap", "256m", id]), "update");
        const limit = hostFile(`/sys/fs/cgroup/memory/${m.docker.cgroupParent}/${id}/memory.limit_in_bytes`);
        const stats = check(m.docker.docker(["stats", "--no-stream", "--format", "{{.PIDs}} {{.MemUsage}}", id]), "stats").stdout;
        return { limits, limit, stats: stats.replace(/^(\d+) [\d.]+[KMG]i?B \//, "$1 X /").trim() };
      } finally {
        m.docker.docker(["rm", "-f", id]);
      }
    });
    expect(got).toEqual({ limits: ["67108864", "50", "50000"], limit: "134217728", stats: "1 X / 128MiB" });
  });
});

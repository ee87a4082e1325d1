/**
 * A request runts cannot honour yet, through each manager: the container is refused, the
 * manager shows its user runts's one-line cause (from runts's json log), and nothing is left;
 * runc (the oracle) runs the same request. The request is a memory limit, which runts refuses
 * until cgroup limits land (src/plan/unsupported.ts); that change removes this file and
 * enables managers-cgroups.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { RT_RUNC, RT_RUNTS, type RunResult, waitFor } from "../lib/harness";
import { IMAGE, managersSuite } from "../lib/managers";

const m = managersSuite("refusals", ["podman", "containerd", "docker"]);

const CAUSE = "config.json: linux.resources.memory: cgroup resource limits are not supported by runts yet";

/** runc ran the request; runts refused it with CAUSE on one line of the manager's output, leaving nothing. */
async function expectRefused(oracle: RunResult, ours: RunResult): Promise<void> {
  expect([oracle.code, oracle.stdout]).toEqual([0, "ran\n"]);
  expect(ours.code).not.toBe(0);
  expect(ours.stdout).toBe("");
  const lines = ours.stderr.split("\n").filter((l) => l.includes(CAUSE));
  expect(lines).toHaveLength(1);
  // podman run --rm's cleanup (conmon, `podman container cleanup`) finishes after podman returns.
  await waitFor("the refused container's cleanup", () => m.sb.leftovers().length === 0, 10_000).catch(() => {});
  expect(m.sb.leftovers()).toEqual([]);
}

describe("a memory limit runts refuses, shown by each manager", () => {
  test("podman run --memory", async () => {
    const [oracle, ours] = [RT_RUNC, RT_RUNTS].map((rt) => m.podman.with(rt, ["run", "--rm", "--network", "none", "--memory", "64m", "busybox", "echo", "ran"]));
    await expectRefused(oracle!, ours!);
    expect(ours!.stderr).toContain(`Error: OCI runtime error: ${m.sb.wrapper(RT_RUNTS, "podman")}: ${CAUSE}`);
  });

  test("ctr run --memory-limit", async () => {
    const [oracle, ours] = [RT_RUNC, RT_RUNTS].map((rt) => {
      const id = `refused-${rt.name}-${process.pid}`;
      m.sb.tracked.add(id);
      const r = m.ctrd.ctrRun(rt, ["--rm", "--memory-limit", "67108864", IMAGE, id, "echo", "ran"]);
      m.ctrd.ctrRaw(["containers", "delete", id]);
      return r;
    });
    await expectRefused(oracle!, ours!);
    expect(ours!.stderr).toContain(`ctr: failed to create shim task: OCI runtime create failed: ${CAUSE}: unknown`);
  });

  test("docker run --memory", async () => {
    const [oracle, ours] = [RT_RUNC, RT_RUNTS].map((rt) => m.docker.run(rt, ["--rm", "--network", "none", "--memory", "64m", "busybox", "echo", "ran"]));
    await expectRefused(oracle!, ours!);
    expect(ours!.stderr).toContain(`docker: Error response from daemon: failed to create shim task: OCI runtime create failed: ${CAUSE}: unknown`);
  });
});

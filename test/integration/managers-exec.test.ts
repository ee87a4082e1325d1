/**
 * `exec` through the managers, with runts and with runc (the oracle) in the same test:
 * podman exec (plain, exit code, --user, --env), ctr task exec (plain, exit code), docker exec
 * and an exec-based docker healthcheck.
 */
import { describe, expect, test } from "bun:test";
import { type Runtime, waitFor } from "../lib/harness";
import { check, compareRuntimes, compareRuntimesAsync, managersSuite } from "../lib/managers";

const m = managersSuite("exec", ["podman", "containerd", "docker"]);

describe("exec through the managers, runts compared with runc", () => {
  test("podman exec: output, exit code, --user, --env", () => {
    const got = compareRuntimes((rt: Runtime) => {
      const id = check(m.podman.with(rt, ["run", "-d", "--network", "none", "busybox", "sleep", "1000"]), "run -d").stdout.trim();
      m.sb.tracked.add(id);
      try {
        const plain = m.podman.raw(["exec", id, "sh", "-c", "echo out; echo err >&2"]);
        const exit = m.podman.raw(["exec", id, "sh", "-c", "exit 4"]).code;
        const user = m.podman.raw(["exec", "--user", "1000:1000", id, "id"]).stdout;
        const env = m.podman.raw(["exec", "--env", "A=b", id, "sh", "-c", "echo $A"]).stdout;
        return { code: plain.code, stdout: plain.stdout, stderr: plain.stderr, exit, user, env };
      } finally {
        m.podman.raw(["rm", "-f", "-t", "0", id]);
      }
    });
    expect(got).toEqual({ code: 0, stdout: "out\n", stderr: "err\n", exit: 4, user: "uid=1000(tester) gid=1000(tester)\n", env: "b\n" });
  });

  test("ctr task exec: output and exit code", async () => {
    let seq = 0;
    const got = await compareRuntimesAsync(async (rt: Runtime) => {
      const id = `exec-${rt.name}-${process.pid}`;
      m.sb.tracked.add(id);
      check(m.ctrd.ctrRun(rt, ["-d", "--null-io", "docker.io/library/busybox:latest", id, "sleep", "1000"]), "ctr run -d");
      try {
        const plain = m.ctrd.ctrRaw(["tasks", "exec", "--exec-id", `e${++seq}`, id, "sh", "-c", "echo out"]);
        const exit = m.ctrd.ctrRaw(["tasks", "exec", "--exec-id", `e${++seq}`, id, "sh", "-c", "exit 4"]).code;
        return { code: plain.code, stdout: plain.stdout, exit };
      } finally {
        m.ctrd.ctrRaw(["tasks", "kill", "--signal", "SIGKILL", id]);
        await waitFor(`${id} stopped`, () => m.ctrd.ctrRaw(["tasks", "delete", id]).code === 0, 10_000, 100).catch(() => {});
        m.ctrd.ctrRaw(["containers", "delete", id]);
      }
    });
    expect(got).toEqual({ code: 0, stdout: "out\n", exit: 4 });
  });

  test("docker exec and an exec-based healthcheck", async () => {
    const got = await compareRuntimesAsync(async (rt: Runtime) => {
      const args = ["-d", "--network", "none", "--health-cmd", "test -e /tmp/ok", "--health-interval", "1s", "--health-retries", "1", "busybox", "sleep", "1000"];
      const id = check(m.docker.run(rt, args), "run -d").stdout.trim();
      m.sb.tracked.add(id);
      const health = () => m.docker.docker(["inspect", "--format", "{{.State.Health.Status}}", id]).stdout.trim();
      try {
        const unhealthy = await waitFor("unhealthy", () => health() === "unhealthy", 20_000, 200);
        const plain = m.docker.docker(["exec", id, "sh", "-c", "touch /tmp/ok; echo out; exit 3"]);
        const healthy = await waitFor("healthy", () => health() === "healthy", 20_000, 200);
        return { unhealthy, code: plain.code, stdout: plain.stdout, healthy };
      } finally {
        m.docker.docker(["rm", "-f", id]);
      }
    });
    expect(got).toEqual({ unhealthy: true, code: 3, stdout: "out\n", healthy: true });
  });
});

/**
 * dockerd (on a containerd of its own) with `--add-runtime runts=...`, every scenario also with
 * runc (as the runtime "runc-oracle") in the same test, compared. Ends with the fault test:
 * dockerd killed while a container runs, restarted, and `docker rm -f` leaves nothing.
 */
import { describe, expect, test } from "bun:test";
import { type Runtime, waitFor } from "../lib/harness";
import { check, compareRuntimes as compare, MANAGED, managersSuite } from "../lib/managers";

const m = managersSuite("docker", ["docker"]);
/** `docker run -d --runtime <rt> ... busybox args` (no network unless `extra` names one); returns the container id. */
function detached(rt: Runtime, args: string[], extra: string[] = []): string {
  const network = extra.includes("--network") ? [] : ["--network", "none"];
  const id = check(m.docker.run(rt, ["-d", ...network, ...extra, "busybox", ...args]), `${rt.name}: run -d`).stdout.trim();
  m.sb.tracked.add(id);
  return id;
}

const inspect = (id: string, format: string) => m.docker.docker(["inspect", "--format", format, id]).stdout.trim();

describe("docker with runts as a runtime, compared with runc", () => {
  test("run --rm: stdout, stderr and exit codes", () => {
    const got = compare((rt) => {
      const r = m.docker.run(rt, ["--rm", "--network", "none", "busybox", "sh", "-c", "echo out; echo err >&2; exit 9"]);
      return { code: r.code, stdout: r.stdout, stderr: r.stderr };
    });
    expect(got).toEqual({ code: 9, stdout: "out\n", stderr: "err\n" });
  });

  test("run -d -p HOST:CTR on the default bridge: the published port answers", async () => {
    const got = await Promise.all(
      MANAGED.map(async (rt, i) => {
        const port = 18080 + i;
        const id = detached(rt, ["sh", "-c", `while true; do echo hello-${rt.name} | nc -l -p 80; done`], ["--network", "bridge", "-p", `127.0.0.1:${port}:80`]);
        try {
          const answer = await waitFor(
            `port ${port}`,
            () => m.sb.run(["busybox", "nc", "-w", "2", "127.0.0.1", String(port)], { timeoutMs: 5_000 }).stdout.trim() || null,
            15_000,
            200,
          );
          return answer.replace(rt.name, "RT");
        } finally {
          m.docker.docker(["rm", "-f", id]);
        }
      }),
    );
    expect(got).toEqual(["hello-RT", "hello-RT"]);
  });

  test("pause/unpause, stop, restart, rm -f", () => {
    const got = compare((rt) => {
      const id = detached(rt, ["sleep", "1000"]);
      const running = inspect(id, "{{.State.Status}}");
      check(m.docker.docker(["pause", id]), `${rt.name}: pause`);
      const paused = inspect(id, "{{.State.Status}}");
      check(m.docker.docker(["unpause", id]), `${rt.name}: unpause`);
      const unpaused = inspect(id, "{{.State.Status}}");
      const pid1 = inspect(id, "{{.State.Pid}}");
      check(m.docker.docker(["restart", "-t", "1", id]), `${rt.name}: restart`);
      const restarted = inspect(id, "{{.State.Status}}");
      const newPid = inspect(id, "{{.State.Pid}}") !== pid1;
      check(m.docker.docker(["stop", "-t", "1", id]), `${rt.name}: stop`);
      const stopped = inspect(id, "{{.State.Status}} {{.State.ExitCode}}");
      check(m.docker.docker(["rm", id]), `${rt.name}: rm`);
      const id2 = detached(rt, ["sleep", "1000"]);
      check(m.docker.docker(["rm", "-f", id2]), `${rt.name}: rm -f`);
      const gone = m.docker.docker(["inspect", id2]).code;
      return { running, paused, unpaused, restarted, newPid, stopped, gone };
    });
    expect(got).toEqual({ running: "running", paused: "paused", unpaused: "running", restarted: "running", newPid: true, stopped: "exited 137", gone: 1 });
  });

  test("--restart on-failure:2: restarted twice, then exited with the container's status", async () => {
    const got = await Promise.all(
      MANAGED.map(async (rt) => {
        const id = detached(rt, ["sh", "-c", "exit 3"], ["--restart", "on-failure:2"]);
        await waitFor(`${id} done restarting`, () => inspect(id, "{{.RestartCount}} {{.State.Status}}") === "2 exited", 20_000, 100);
        const r = inspect(id, "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}");
        check(m.docker.docker(["rm", "-f", id]), "rm -f");
        return r;
      }),
    );
    expect(got).toEqual(["2 exited 3", "2 exited 3"]);
  });

  test("a command that does not exist: docker shows the runtime's cause from log.json", () => {
    const got = MANAGED.map((rt) => m.docker.run(rt, ["--rm", "--network", "none", "busybox", "/nonexistent"]));
    for (const r of got) expect(r.code).toBe(127);
    expect(got[1]!.stderr).toContain("/nonexistent");
    expect(got[1]!.stderr).toContain("no such file or directory");
  });

  test("fault: dockerd killed while a container runs, restarted; rm -f leaves nothing", async () => {
    const rt = MANAGED[1]!;
    const id = detached(rt, ["sleep", "1000"]);
    await m.sb.killDaemon(m.docker.daemon!);
    await m.docker.start();
    check(m.docker.docker(["rm", "-f", id]), "rm -f after the restart");
    expect(m.docker.docker(["ps", "-aq"]).stdout.trim()).toBe("");
    await waitFor("nothing left of the container", () => m.sb.leftovers().length === 0, 10_000).catch(() => {});
    expect(m.sb.leftovers()).toEqual([]);
  });
});

/**
 * podman (rootful, cgroupfs, netavark) with runts as its OCI runtime, every scenario also run
 * with runc (the oracle) in the same test and compared. The runtime is reached through the
 * sandbox's argv recorder; the recorded call forms must be covered by test/unit/manager-argv.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { type Runtime, runtime, waitFor } from "../lib/harness";
import { check, compareRuntimes as compare, compareRuntimesAsync, MANAGED, managersSuite } from "../lib/managers";

const m = managersSuite("podman", ["podman"]);
/** `podman --runtime <rt> args`. */
function run(rt: Runtime, args: string[]) {
  return m.podman.with(rt, args);
}

/** Runs `podman run -d ... busybox sleep 1000` with rt; returns the container id. */
function detached(rt: Runtime, extra: string[] = []): string {
  const id = check(run(rt, ["run", "-d", "--network", "none", ...extra, "busybox", "sleep", "1000"]), `${rt.name}: run -d`).stdout.trim();
  m.sb.tracked.add(id);
  return id;
}

const status = (id: string) => m.podman.raw(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", id]).stdout.trim();

describe("podman with runts as its runtime, compared with runc", () => {
  test("run --rm --network none: stdout, stderr and exit codes", () => {
    const got = compare((rt) => {
      const r = run(rt, ["run", "--rm", "--network", "none", "busybox", "sh", "-c", "echo out; echo err >&2; exit 7"]);
      const ok = run(rt, ["run", "--rm", "--network", "none", "busybox", "true"]);
      return { code: r.code, stdout: r.stdout, stderr: r.stderr, okCode: ok.code };
    });
    expect(got).toEqual({ code: 7, stdout: "out\n", stderr: "err\n", okCode: 0 });
  });

  test("run --rm on the default bridge (netavark): eth0 has an address of podman's network", () => {
    const got = compare((rt) => {
      const r = run(rt, ["run", "--rm", "busybox", "sh", "-c", "ip -o -4 addr show eth0 | awk '{print $4}'; ip route | grep -c default"]);
      return { code: r.code, net: r.stdout.replace(/\.\d+\/16/, ".X/16"), stderr: r.stderr };
    });
    expect(got.code).toBe(0);
    expect(got.net).toMatch(/^10\.88\.\d+\.X\/16\n1\n$/);
  });

  test("run -d -p HOST:CTR on the default bridge: the published port answers", async () => {
    const got = await compareRuntimesAsync(async (rt) => {
      const port = rt.name === "runc" ? "18090" : "18091";
      const serve = `while true; do echo hello-${rt.name} | nc -l -p 80; done`;
      const id = check(run(rt, ["run", "-d", "-p", `${port}:80`, "busybox", "sh", "-c", serve]), `${rt.name}: run -d -p`).stdout.trim();
      m.sb.tracked.add(id);
      try {
        const hostIp = check(m.sb.run(["ip", "-o", "-4", "addr", "show", "podman0"]), "podman0").stdout.match(/inet ([\d.]+)/)![1]!;
        const answer = await waitFor(
          `port ${port}`,
          () => m.sb.run(["busybox", "nc", "-w", "2", hostIp, port], { timeoutMs: 5_000 }).stdout.trim() || null,
          15_000,
          200,
        );
        return answer.replace(rt.name, "RT");
      } finally {
        m.podman.raw(["rm", "-f", "-t", "0", id]);
      }
    });
    expect(got).toBe("hello-RT");
  });

  test("run -d, top, pause/unpause, kill, stop -t, rm -f", async () => {
    compare((rt) => {
      const id = detached(rt);
      const top = check(m.podman.raw(["top", id, "args"]), `${rt.name}: top`).stdout.trim().split("\n");
      const afterRun = status(id);
      check(m.podman.raw(["pause", id]), `${rt.name}: pause`);
      const paused = status(id);
      check(m.podman.raw(["unpause", id]), `${rt.name}: unpause`);
      const unpaused = status(id);
      check(m.podman.raw(["kill", "--signal", "KILL", id]), `${rt.name}: kill`);
      check(m.podman.raw(["wait", id]), `${rt.name}: wait`);
      const killed = status(id);
      check(m.podman.raw(["rm", id]), `${rt.name}: rm`);

      // sleep as pid 1 ignores SIGTERM: stop -t 1 ends in SIGKILL (137).
      const id2 = detached(rt);
      check(m.podman.raw(["stop", "-t", "1", id2]), `${rt.name}: stop`);
      const stopped = status(id2);
      check(m.podman.raw(["rm", id2]), `${rt.name}: rm`);

      const id3 = detached(rt);
      check(m.podman.raw(["rm", "-f", "-t", "0", id3]), `${rt.name}: rm -f`);
      const gone = m.podman.raw(["container", "exists", id3]).code;
      return { top, afterRun, paused, unpaused, killed, stopped, gone };
    });
    await waitFor("no container processes left", () => m.sb.leftovers().length === 0, 10_000).catch(() => {});
    expect(m.sb.leftovers()).toEqual([]);
  });

  test("--read-only: the root filesystem refuses writes, /tmp stays writable", () => {
    const got = compare((rt) => {
      const r = run(rt, ["run", "--rm", "--network", "none", "--read-only", "busybox", "sh", "-c", "touch /x; echo $?; touch /tmp/x && echo tmp ok"]);
      return { code: r.code, stdout: r.stdout, stderr: r.stderr };
    });
    expect(got.stdout).toBe("1\ntmp ok\n");
    expect(got.stderr).toContain("Read-only file system");
  });

  test("--cap-drop ALL --cap-add NET_RAW,CHOWN: exactly those capabilities", () => {
    const got = compare((rt) => {
      const r = run(rt, ["run", "--rm", "--network", "none", "--cap-drop", "ALL", "--cap-add", "NET_RAW,CHOWN", "busybox", "grep", "^Cap", "/proc/self/status"]);
      return { code: r.code, stdout: r.stdout };
    });
    expect(got.code).toBe(0);
    // CHOWN (bit 0) and NET_RAW (bit 13).
    expect(got.stdout).toContain("CapBnd:\t0000000000002001");
    expect(got.stdout).toContain("CapEff:\t0000000000002001");
  });

  test("--device: the host's /dev/zero at another path, readable, with its major:minor", () => {
    const got = compare((rt) => {
      const r = run(rt, ["run", "--rm", "--network", "none", "--device", "/dev/zero:/dev/myzero", "busybox", "sh", "-c", "stat -c '%t:%T %F' /dev/myzero; head -c 3 /dev/myzero | od -An -tx1"]);
      return { code: r.code, stdout: r.stdout };
    });
    expect(got).toEqual({ code: 0, stdout: "1:5 character special file\n 00 00 00\n" });
  });

  // podman has no daemon: its monitor is the container's conmon. With conmon killed, podman
  // rm -f stops the container and forgets it without deleting it from the runtime, with runc
  // as with runts (the state dir stays); the runtime's own delete --force removes the rest.
  test("fault: the container's conmon killed; rm -f, then the runtime's delete --force, leave nothing", async () => {
    const got = await compareRuntimesAsync(async (rt) => {
      const id = detached(rt);
      const conmon = Number(check(m.podman.raw(["inspect", "--format", "{{.State.ConmonPid}}", id]), "inspect").stdout.trim());
      process.kill(conmon, "SIGKILL");
      await waitFor("conmon gone", () => !existsSync(`/proc/${conmon}`), 5_000);
      const rm = m.podman.raw(["rm", "-f", "-t", "0", id]).code;
      const exists = m.podman.raw(["container", "exists", id]).code;
      const stateLeft = existsSync(`/run/${rt.name}/${id}`);
      const deleted = runtime(rt.bin, ["delete", "--force", id]).code;
      await waitFor("nothing left", () => m.sb.leftovers().length === 0, 10_000).catch(() => {});
      return { rm, exists, stateLeft, deleted, left: m.sb.leftovers() };
    });
    expect(got).toEqual({ rm: 0, exists: 1, stateLeft: true, deleted: 0, left: [] });
  });

  test("a command that does not exist: exit 127 and the runtime's one-line cause from its json log", () => {
    const got = MANAGED.map((rt) => run(rt, ["run", "--rm", "--network", "none", "busybox", "/nonexistent"]));
    for (const r of got) expect(r.code).toBe(127);
    expect(got[1]!.stderr).toContain("/nonexistent");
    expect(got[1]!.stderr).toContain("no such file or directory");
    expect(got[1]!.stderr.trim().split("\n")).toHaveLength(1);
  });
});

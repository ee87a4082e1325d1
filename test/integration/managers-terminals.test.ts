/**
 * Terminals through the managers (`run -t`, `exec -t`: the runtime gets --console-socket and
 * hands the pty master to conmon or the shim), with runts and with runc (the oracle) in the
 * same test. ctr wants a terminal of its own for -t: it runs under script(1).
 */
import { describe, expect, test } from "bun:test";
import { type Runtime, runtime } from "../lib/harness";
import { check, compareRuntimes, IMAGE, managersSuite } from "../lib/managers";

const m = managersSuite("terminals", ["podman", "containerd", "docker"]);

const TTY = "tty; exit 3";

describe("run -t through the managers, runts compared with runc", () => {
  test("podman run -t", () => {
    const got = compareRuntimes((rt: Runtime) => {
      const r = m.podman.with(rt, ["run", "--rm", "-t", "--network", "none", "busybox", "sh", "-c", TTY]);
      return { code: r.code, stdout: r.stdout };
    });
    expect(got).toEqual({ code: 3, stdout: "/dev/pts/0\r\n" });
  });

  test("ctr run -t", () => {
    const got = compareRuntimes((rt: Runtime) => {
      const ctr = ["ctr", "--address", m.ctrd.socket, "--namespace", m.ctrd.ns, "run", ...m.ctrd.runtimeFlags(rt), "--rm", "-t", IMAGE, `tty-${rt.name}-${process.pid}`, "sh", "-c", TTY];
      const r = runtime("script", ["-qefc", ctr.join(" "), "/dev/null"], { timeoutMs: 30_000 });
      // script(1) adds its own line ends, and at times a NUL shown as ^@, to the container's output.
      return { code: r.code, stdout: r.stdout.replace(/\^@|\r/g, "") };
    });
    expect(got).toEqual({ code: 3, stdout: "/dev/pts/0\n" });
  });

  test("docker run -t", () => {
    const got = compareRuntimes((rt: Runtime) => {
      const r = m.docker.run(rt, ["--rm", "-t", "--network", "none", "busybox", "sh", "-c", TTY]);
      return { code: r.code, stdout: r.stdout };
    });
    expect(got).toEqual({ code: 3, stdout: "/dev/pts/0\r\n" });
  });

  test("exec -t: podman, docker and ctr", () => {
    const got = compareRuntimes((rt: Runtime) => {
      const pid = check(m.podman.with(rt, ["run", "-d", "--network", "none", "busybox", "sleep", "1000"]), "podman run -d").stdout.trim();
      const did = check(m.docker.run(rt, ["-d", "--network", "none", "busybox", "sleep", "1000"]), "docker run -d").stdout.trim();
      const cid = `exec-tty-${rt.name}-${process.pid}`;
      for (const id of [pid, did, cid]) m.sb.tracked.add(id);
      check(m.ctrd.ctrRun(rt, ["-d", "--null-io", IMAGE, cid, "sleep", "1000"]), "ctr run -d");
      try {
        const podman = m.podman.raw(["exec", "-t", pid, "sh", "-c", TTY]);
        const docker = m.docker.docker(["exec", "-t", did, "sh", "-c", TTY]);
        const ctr = ["ctr", "--address", m.ctrd.socket, "--namespace", m.ctrd.ns, "tasks", "exec", "-t", "--exec-id", "tty", cid, "sh", "-c", `'${TTY}'`];
        const c = runtime("script", ["-qefc", ctr.join(" "), "/dev/null"], { timeoutMs: 30_000 });
        // ctr also logs that it could not resize the pty of the exec that just ended.
        return [podman.code, podman.stdout, docker.code, docker.stdout, c.code, c.stdout.replace(/\^@|\r/g, "").split("\n")[0]!];
      } finally {
        m.podman.raw(["rm", "-f", "-t", "0", pid]);
        m.docker.docker(["rm", "-f", did]);
        m.ctrd.ctrRaw(["tasks", "delete", "--force", cid]);
        m.ctrd.ctrRaw(["containers", "delete", cid]);
      }
    });
    expect(got).toEqual([3, "/dev/pts/0\r\n", 3, "/dev/pts/0\r\n", 3, "/dev/pts/0"]);
  });
});

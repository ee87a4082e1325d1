/**
 * Proves the harness against the oracle: a makeBundle() bundle run under runc.
 */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { capMask, forceCleanup, leftovers, probeInfo, requireRoot, ROOTS, RUNC, runtime, uniqueId } from "../lib/harness";
import { type Bundle, makeBundle } from "../lib/rootfs";

/** CAP_KILL (5) | CAP_NET_BIND_SERVICE (10) | CAP_AUDIT_WRITE (29): the default spec's set. */
const DEFAULT_CAPS = (1n << 5n) | (1n << 10n) | (1n << 29n);

describe("runc oracle", () => {
  const root = ROOTS.runc;
  let id = "";
  let bundle: Bundle | null = null;

  beforeAll(() => requireRoot());

  afterEach(() => {
    if (id) forceCleanup(RUNC, root, id);
    bundle?.cleanup();
    bundle = null;
  });

  test("runc run of a default bundle: probe info inside the container", () => {
    id = uniqueId();
    bundle = makeBundle();
    const r = runtime(RUNC, ["--root", root, "run", "--bundle", bundle.dir, id]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const info = probeInfo(r.stdout);
    expect(info.pid).toBe(1);
    expect(info.hostname).toBe("runts");
    expect(info.uid).toBe(0);
    expect(info.gid).toBe(0);
    expect(info.cwd).toBe("/");
    expect(info.noNewPrivs).toBe(1);
    expect(info.mounts.map((m) => m.mountPoint)).toContain("/proc");
    expect(info.caps.bnd).toBe("0000000020000420");
    for (const k of ["bnd", "prm", "eff"] as const) expect(capMask(info.caps[k])).toBe(DEFAULT_CAPS);
    // runc 1.1.5 cannot raise the ambient set (the spec has no inheritable caps) and ignores that.
    expect(info.caps.inh).toBe("0000000000000000");
    expect(info.caps.amb).toBe("0000000000000000");
    expect(info.rlimits.RLIMIT_NOFILE).toEqual({ soft: 1024, hard: 1024 });
    expect(info.env).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "HOME=/root"]);
    // new network namespace with only loopback, brought up by the runtime
    expect(info.ips).toEqual(["lo 127.0.0.1/8", "lo ::1/128"]);
    expect(info.mounts.find((m) => m.mountPoint === "/")?.options).toMatch(/^ro,/);
    expect(leftovers(id, root)).toEqual([]);
  });

  test("runc run -d, exec, kill, delete leave nothing behind", () => {
    id = uniqueId();
    bundle = makeBundle({ rootfs: "shared", config: (c) => (c.process.args = ["/bin/probe", "pause"]) });
    const run = runtime(RUNC, ["--root", root, "run", "-d", "--bundle", bundle.dir, id]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const ex = runtime(RUNC, ["--root", root, "exec", id, "/bin/probe", "info"]);
    expect(ex.code).toBe(0);
    expect(probeInfo(ex.stdout).pid).toBeGreaterThan(1);
    expect(leftovers(id, root).length).toBeGreaterThan(0); // the harness does see a live container
    expect(runtime(RUNC, ["--root", root, "kill", id, "KILL"]).code).toBe(0);
    for (let i = 0; i < 100; i++) {
      const st = runtime(RUNC, ["--root", root, "state", id]);
      if (JSON.parse(st.stdout || "{}").status === "stopped") break;
      Bun.sleepSync(20);
    }
    expect(runtime(RUNC, ["--root", root, "delete", id]).code).toBe(0);
    expect(leftovers(id, root)).toEqual([]);
  });
});

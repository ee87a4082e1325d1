/**
 * The managers' default seccomp profiles in force with runts, compared with runc (the oracle)
 * in the same test: a filter is attached, and where the profile says so (docker's and
 * containerd's allow user namespaces only with CAP_SYS_ADMIN; podman 4.3's allows them) a
 * user namespace is refused, while `seccomp=unconfined` lets it through.
 */
import { describe, expect, test } from "bun:test";
import type { Runtime } from "../lib/harness";
import { compareRuntimes, managersSuite } from "../lib/managers";

const m = managersSuite("seccomp", ["podman", "containerd", "docker"]);

/** The seccomp mode, then whether a user namespace can be made. */
const PROBE = "grep '^Seccomp' /proc/self/status; unshare -U true 2>/dev/null && echo userns allowed || echo userns refused";
const CONFINED = "Seccomp:\t2\nSeccomp_filters:\t1\nuserns refused\n";
const UNCONFINED = "Seccomp:\t0\nSeccomp_filters:\t0\nuserns allowed\n";

describe("default seccomp profiles through the managers, runts compared with runc", () => {
  test("podman: the default profile, and --security-opt seccomp=unconfined", () => {
    const got = compareRuntimes((rt: Runtime) =>
      ["default", "unconfined"].map((p) => {
        const opt = p === "unconfined" ? ["--security-opt", "seccomp=unconfined"] : [];
        return m.podman.with(rt, ["run", "--rm", "--network", "none", ...opt, "busybox", "sh", "-c", PROBE]).stdout;
      }),
    );
    expect(got).toEqual([CONFINED.replace("refused", "allowed"), UNCONFINED]);
  });

  test("ctr run --seccomp: containerd's default profile", () => {
    const got = compareRuntimes((rt: Runtime) => m.ctrd.ctrRun(rt, ["--rm", "--seccomp", "docker.io/library/busybox:latest", `sc-${rt.name}-${process.pid}`, "sh", "-c", PROBE]).stdout);
    expect(got).toBe(CONFINED);
  });

  test("docker: the default profile, and --security-opt seccomp=unconfined", () => {
    const got = compareRuntimes((rt: Runtime) =>
      ["default", "unconfined"].map((p) => {
        const opt = p === "unconfined" ? ["--security-opt", "seccomp=unconfined"] : [];
        return m.docker.run(rt, ["--rm", "--network", "none", ...opt, "busybox", "sh", "-c", PROBE]).stdout;
      }),
    );
    expect(got).toEqual([CONFINED, UNCONFINED]);
  });
});

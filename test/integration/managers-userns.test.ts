/**
 * User namespaces through the managers (podman --uidmap/--gidmap, ctr --uidmap/--gidmap), with
 * runts and with runc (the oracle) in the same test: the mapping seen inside, root inside,
 * a writable rootfs, and the container's process running as the mapped host uid.
 */
import { describe, expect, test } from "bun:test";
import type { Runtime } from "../lib/harness";
import { check, compareRuntimes, IMAGE, managersSuite } from "../lib/managers";

const m = managersSuite("userns", ["podman", "containerd"]);

const MAP = ["--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"];
const INSIDE = "cat /proc/self/uid_map /proc/self/gid_map; id; touch /tmp/x && echo writable";
const EXPECTED = "         0     100000      65536\n         0     100000      65536\nuid=0(root) gid=0(root)\nwritable\n";

describe("user namespaces through the managers, runts compared with runc", () => {
  test("podman --uidmap --gidmap: inside and from the host", () => {
    const got = compareRuntimes((rt: Runtime) => {
      const r = m.podman.with(rt, ["run", "--rm", "--network", "none", ...MAP, "busybox", "sh", "-c", INSIDE]);
      const id = check(m.podman.with(rt, ["run", "-d", "--network", "none", ...MAP, "busybox", "sleep", "1000"]), "run -d").stdout.trim();
      m.sb.tracked.add(id);
      try {
        const hostUser = check(m.podman.raw(["top", id, "huser", "user"]), "top").stdout.trim().split("\n").slice(1);
        return { code: r.code, stdout: r.stdout, hostUser };
      } finally {
        m.podman.raw(["rm", "-f", "-t", "0", id]);
      }
    });
    expect(got).toEqual({ code: 0, stdout: EXPECTED, hostUser: [expect.stringMatching(/^100000\s+root$/)] });
  });

  test("ctr run --uidmap --gidmap", () => {
    const got = compareRuntimes((rt: Runtime) => {
      const r = m.ctrd.ctrRun(rt, ["--rm", ...MAP, IMAGE, `userns-${rt.name}-${process.pid}`, "sh", "-c", INSIDE]);
      return { code: r.code, stdout: r.stdout };
    });
    // ctr's spec lists gid 0 as an additional group, podman's none.
    expect(got).toEqual({ code: 0, stdout: EXPECTED.replace("gid=0(root)", "gid=0(root) groups=0(root)") });
  });
});

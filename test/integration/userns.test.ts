/**
 * User namespaces (linux.uidMappings/gidMappings, joined by path), idmapped bind mounts and time
 * namespaces (linux.timeOffsets), checked from inside real containers and against runc where
 * runc 1.1.5 has the feature (it has no time namespaces and no idmapped mounts).
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BOTH, capMask, containerState, probeInfo, RT_RUNC, RT_RUNTS, type Runtime, runtime } from "../lib/harness";
import type { Bundle } from "../lib/rootfs";
import { testScope } from "../lib/scope";

const scope = testScope("us");

const BASE = 100000;
const RANGE = [{ containerID: 0, hostID: BASE, size: 65536 }];

/** A bundle whose rootfs belongs to host ids 100000+ and whose config maps container 0..65535 there. */
function usernsBundle(mutate?: (c: any) => void): Bundle {
  const b = scope.newBundle({
    config: (c) => {
      c.root.readonly = false;
      c.linux.namespaces.push({ type: "user" });
      c.linux.uidMappings = RANGE;
      c.linux.gidMappings = RANGE;
      mutate?.(c);
    },
  });
  const r = spawnSync("sh", ["-c", `chown -R -h ${BASE}:${BASE} "$1"`, "sh", b.rootfs]);
  expect(r.status).toBe(0);
  return b;
}

function run(rt: Runtime, b: Bundle, args: string[] = ["run"]) {
  const id = scope.newId(rt);
  return { id, ...runtime(rt.bin, ["--root", rt.root, ...args, "--bundle", b.dir, id]) };
}

const expectNoLeftovers = () => scope.expectNoLeftovers();

const SCRIPT = [
  "id -u; id -g",
  "cat /proc/self/uid_map /proc/self/gid_map",
  "touch /tmp/made; stat -c %u:%g /tmp/made /bin/busybox",
  "head -c 5 /dev/zero | wc -c",
  "echo x > /dev/null && echo null-writable",
  "head -c 7 /dev/urandom | wc -c",
  "hostname",
].join("; ");

describe("a new user namespace with a 65536-id mapping", () => {
  test("ids, maps, file ownership inside and on the host and devices are those runc gives", () => {
    const out: Record<string, string> = {};
    for (const rt of BOTH) {
      const b = usernsBundle((c) => (c.process.args = ["/bin/sh", "-c", SCRIPT]));
      const r = run(rt, b);
      expect({ rt: rt.name, code: r.code, stderr: r.stderr }).toEqual({ rt: rt.name, code: 0, stderr: "" });
      out[rt.name] = r.stdout;
      const st = statSync(path.join(b.rootfs, "tmp/made"));
      expect({ rt: rt.name, uid: st.uid, gid: st.gid }).toEqual({ rt: rt.name, uid: BASE, gid: BASE });
    }
    expect(out.runts!.split("\n").map((l) => l.trim().replace(/\s+/g, " "))).toEqual([
      "0",
      "0",
      `0 ${BASE} 65536`,
      `0 ${BASE} 65536`,
      "0:0",
      "0:0",
      "5",
      "null-writable",
      "7",
      "runts",
      "",
    ]);
    expect(out.runts).toBe(out.runc!);
    expectNoLeftovers();
  });

  test("capabilities, the user namespace and the process user inside are runc's", () => {
    const infos = BOTH.map((rt) => {
      const b = usernsBundle((c) => {
        c.process.user = { uid: 1000, gid: 1000, additionalGids: [5] };
        c.process.capabilities.bounding.push("CAP_SYS_ADMIN");
        c.process.capabilities.permitted.push("CAP_SYS_ADMIN");
        c.process.capabilities.effective.push("CAP_SYS_ADMIN");
        c.process.capabilities.ambient = ["CAP_SYS_ADMIN"];
        c.process.capabilities.inheritable = ["CAP_SYS_ADMIN"];
      });
      const r = run(rt, b);
      expect({ rt: rt.name, code: r.code, stderr: r.stderr }).toEqual({ rt: rt.name, code: 0, stderr: "" });
      return probeInfo(r.stdout);
    });
    const [runc, runts] = infos as [ReturnType<typeof probeInfo>, ReturnType<typeof probeInfo>];
    expect({ uid: runts.uid, gid: runts.gid, groups: runts.groups }).toEqual({ uid: 1000, gid: 1000, groups: [5] });
    expect(runts.caps).toEqual(runc.caps);
    expect(capMask(runts.caps.eff) & (1n << 21n)).toBe(1n << 21n); // CAP_SYS_ADMIN, over its own namespace
    const hostUserns = spawnSync("readlink", ["/proc/self/ns/user"], { encoding: "utf8" }).stdout.trim();
    expect(runts.ns.user).not.toBe(hostUserns);
    // the mounts set up inside the namespace (runts has only the cgroup v2 hierarchy, runc 1.1.5 the hybrid one)
    const mounts = (i: typeof runts) => i.mounts.filter((m) => !m.mountPoint.startsWith("/sys/fs/cgroup")).map((m) => `${m.mountPoint} ${m.fsType}`).sort();
    expect(mounts(runts)).toEqual(mounts(runc));
    expectNoLeftovers();
  });
});

describe("namespaces owned by the new user namespace", () => {
  test("a cgroup namespace (cgroup2 mounted inside), a network sysctl, hostname and pivot_root all work in it", () => {
    const b = usernsBundle((c) => {
      c.linux.namespaces.push({ type: "cgroup" });
      c.linux.sysctl = { "net.ipv4.ip_local_port_range": "20000 30000" };
      c.hostname = "inside";
      c.process.args = ["/bin/sh", "-c", "grep ^0:: /proc/self/cgroup; grep ' /sys/fs/cgroup ' /proc/self/mountinfo | sed 's/.* - //' | cut -d' ' -f1; cat /proc/sys/net/ipv4/ip_local_port_range; hostname; [ -x /bin/probe ] && echo in-rootfs"];
    });
    const r = run(RT_RUNTS, b);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout.split("\n").map((l) => l.trim().replace(/\s+/g, " "))).toEqual(["0::/", "cgroup2", "20000 30000", "inside", "in-rootfs", ""]);
    expectNoLeftovers();
  });
});

describe("joining a user namespace by path", () => {
  test("a second container joins the first one's user namespace, with or without the same mappings in its config", () => {
    const first = usernsBundle((c) => (c.process.args = ["/bin/sleep", "60"]));
    const a = run(RT_RUNTS, first, ["create"]);
    expect({ code: a.code, stderr: a.stderr }).toEqual({ code: 0, stderr: "" });
    const pid = containerState(RT_RUNTS.bin, RT_RUNTS.root, a.id)!.pid as number;
    const nsPath = `/proc/${pid}/ns/user`;
    for (const withMappings of [true, false]) {
      const b = usernsBundle((c) => {
        c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === "user" ? { type: "user", path: nsPath } : n));
        if (!withMappings) {
          delete c.linux.uidMappings;
          delete c.linux.gidMappings;
        }
        c.process.args = ["/bin/sh", "-c", "readlink /proc/self/ns/user; cat /proc/self/uid_map; id -u; touch /tmp/j; stat -c %u /tmp/j"];
      });
      const r = run(RT_RUNTS, b);
      expect({ withMappings, code: r.code, stderr: r.stderr }).toEqual({ withMappings, code: 0, stderr: "" });
      const lines = r.stdout.trim().split("\n").map((l) => l.trim().replace(/\s+/g, " "));
      expect(lines).toEqual([spawnSync("readlink", [nsPath], { encoding: "utf8" }).stdout.trim(), `0 ${BASE} 65536`, "0", "0"]);
      expect(statSync(path.join(b.rootfs, "tmp/j")).uid).toBe(BASE);
    }
    const mismatch = usernsBundle((c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === "user" ? { type: "user", path: nsPath } : n));
      c.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    });
    const m = run(RT_RUNTS, mismatch);
    expect(m.code).not.toBe(0);
    expect(m.stderr).toContain(`config.json: linux.uidMappings: do not match the mappings of the joined user namespace "${nsPath}"`);
    expect(runtime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "delete", "--force", a.id]).code).toBe(0);
    expectNoLeftovers();
  });
});

describe("idmapped bind mounts", () => {
  function hostDir(owner: number): string {
    const d = scope.hostDir("idmap-src");
    writeFileSync(path.join(d, "owned"), "by 1000\n");
    chownSync(d, owner, owner);
    chownSync(path.join(d, "owned"), owner, owner);
    return d;
  }

  test("a file owned by host uid 1000 appears owned by container root, and writes land as 1000 on the host", () => {
    const src = hostDir(1000);
    const one = [{ containerID: 1000, hostID: BASE, size: 1 }];
    const b = usernsBundle((c) => {
      c.mounts.push({ destination: "/data", type: "bind", source: src, options: ["bind"], uidMappings: one, gidMappings: one });
      c.process.args = ["/bin/sh", "-c", "stat -c %u:%g /data/owned; echo hi > /data/new; stat -c %u:%g /data/new"];
    });
    const r = run(RT_RUNTS, b);
    expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ code: 0, stderr: "", stdout: "0:0\n0:0\n" });
    const st = statSync(path.join(src, "new"));
    expect({ uid: st.uid, gid: st.gid, text: readFileSync(path.join(src, "new"), "utf8") }).toEqual({ uid: 1000, gid: 1000, text: "hi\n" });
    expectNoLeftovers();
  });

  test('a bare "idmap" takes the container\'s mappings (host 100000 is container root); ids off the mapping show as nobody', () => {
    const src = hostDir(BASE);
    chmodSync(src, 0o755);
    chownSync(path.join(src, "owned"), 5, 5);
    const b = usernsBundle((c) => {
      // on disk id k is container id k: the container's own mapping, as runtime-spec 1.2 says
      c.mounts.push({ destination: "/data", type: "bind", source: src, options: ["rbind", "idmap"] });
      c.process.args = ["/bin/sh", "-c", "stat -c %u:%g /data/owned; stat -c %u /data"];
    });
    const r = run(RT_RUNTS, b);
    expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ code: 0, stderr: "", stdout: "5:5\n65534\n" });
    expectNoLeftovers();
  });
});

describe("time namespaces", () => {
  test("linux.timeOffsets shift CLOCK_BOOTTIME (/proc/uptime) and CLOCK_MONOTONIC inside, not on the host", () => {
    const day = 86400;
    const b = scope.newBundle({
      config: (c) => {
        c.linux.namespaces.push({ type: "time" });
        c.linux.timeOffsets = { boottime: { secs: 10 * day }, monotonic: { secs: 2 * day, nanosecs: 500 } };
        c.process.args = ["/bin/sh", "-c", "cat /proc/uptime /proc/self/timens_offsets"];
      },
    });
    const hostUptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    const r = run(RT_RUNTS, b);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const [uptime, ...offsets] = r.stdout.trim().split("\n");
    const inside = Number(uptime!.split(" ")[0]);
    expect(inside).toBeGreaterThanOrEqual(hostUptime + 10 * day);
    expect(inside).toBeLessThan(hostUptime + 10 * day + 60);
    expect(offsets.map((l) => l.trim().split(/\s+/).join(" ")).sort()).toEqual([`boottime ${10 * day} 0`, `monotonic ${2 * day} 500`]);
    expect(Number(readFileSync("/proc/uptime", "utf8").split(" ")[0])).toBeLessThan(hostUptime + 60);
    expectNoLeftovers();
  });
});

describe("bad input is refused naming the field, and leaves nothing behind", () => {
  const cases: [string, (c: any) => void, string][] = [
    ["empty uid mappings", (c) => (c.linux.uidMappings = []), "linux.uidMappings: a user namespace needs at least one mapping"],
    [
      "overlapping container ids",
      (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: BASE, size: 100 }, { containerID: 50, hostID: 300000, size: 10 }]),
      "linux.uidMappings[1]: containerID range 50-59 overlaps linux.uidMappings[0] (0-99)",
    ],
    [
      "overlapping host ids",
      (c) => (c.linux.gidMappings = [{ containerID: 0, hostID: BASE, size: 100 }, { containerID: 100, hostID: BASE + 99, size: 1 }]),
      "linux.gidMappings[1]: hostID range 100099-100099 overlaps linux.gidMappings[0] (100000-100099)",
    ],
    [
      "a size that overflows",
      (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 2147483000, size: 65536 }]),
      "linux.uidMappings[0].size: hostID 2147483000 + size 65536 runs past the largest id 2147483647",
    ],
    ["a host id beyond 2147483647", (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 3000000000, size: 1 }]), "linux.uidMappings[0].hostID: 3000000000 is not a valid id (0..2147483647)"],
    [
      "mappings without a user namespace",
      (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== "user")),
      'linux.uidMappings: mappings need a user namespace (linux.namespaces has no "user")',
    ],
    ["a user namespace without mappings", (c) => (delete c.linux.uidMappings, delete c.linux.gidMappings), "linux.uidMappings: a new user namespace needs uidMappings and gidMappings"],
    ["a process uid the mapping lacks", (c) => (c.process.user.uid = 70000), "process.user.uid: 70000 is not mapped by linux.uidMappings"],
    [
      "an idmap option on a non-bind mount",
      (c) => c.mounts.push({ destination: "/t", type: "tmpfs", source: "tmpfs", options: ["idmap"] }),
      'mounts[7].options[0]: "idmap" is only for bind mounts (type "tmpfs")',
    ],
    [
      "offsets on an unknown clock",
      (c) => (c.linux.namespaces.push({ type: "time" }), (c.linux.timeOffsets = { realtime: { secs: 5 } })),
      "linux.timeOffsets.realtime: unknown clock (monotonic or boottime)",
    ],
    [
      "sysfs without a network namespace (runc fails with EPERM)",
      (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== "network")),
      'mounts[5].type: sysfs in a user namespace needs a network namespace of its own; without one, bind /sys with "rbind" (as runts spec --rootless writes it)',
    ],
    ["offsets without a time namespace", (c) => (c.linux.timeOffsets = { boottime: { secs: 5 } }), 'linux.timeOffsets: needs a new time namespace (linux.namespaces has no "time")'],
  ];
  for (const [name, mutate, message] of cases) {
    test(name, () => {
      const b = usernsBundle(mutate);
      const r = run(RT_RUNTS, b, ["create"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`config.json: ${message}`);
      expectNoLeftovers();
    });
  }

  test("runc 1.1.5 drops mappings without a user namespace silently (runts refuses them, above)", () => {
    const b = usernsBundle((c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== "user");
      c.process.args = ["/bin/cat", "/proc/self/uid_map"];
    });
    const r = run(RT_RUNC, b);
    expect({ code: r.code, map: r.stdout.trim().split(/\s+/) }).toEqual({ code: 0, map: ["0", "0", "4294967295"] });
    expectNoLeftovers();
  });
});

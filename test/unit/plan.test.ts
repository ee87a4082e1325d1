import { describe, expect, test } from "bun:test";
import type { PlanOp } from "../../src/helper/protocol.ts";
import { capabilityMasks } from "../../src/plan/capabilities.ts";
import { planContainer } from "../../src/plan/container.ts";
import { planDevices } from "../../src/plan/devices.ts";
import { ATTR, bindAttributes, COVER, MS, parseMountOptions, planMounts, rootPropagation } from "../../src/plan/mounts.ts";
import { planNamespaces } from "../../src/plan/namespaces.ts";
import { execCandidates, homeFromPasswd } from "../../src/plan/process.ts";
import { cpuSetBytes, planProcessAttributes } from "../../src/plan/process-attrs.ts";
import { planSysctl } from "../../src/plan/sysctl.ts";
import { defaultSpec } from "../../src/spec/defaultSpec.ts";
import type { Spec } from "../../src/spec/types.ts";
import { fakeFacts, planContext } from "../lib/plan-context.ts";

const ctx = planContext;

const spec = (mutate?: (s: Spec) => void): Spec => {
  const s = defaultSpec() as unknown as Spec;
  s.process!.terminal = false;
  mutate?.(s);
  return s;
};

const names = (ops: PlanOp[]) => ops.map((o) => o.op);

describe("planContainer", () => {
  test("the default spec plans clone, rootfs, mounts, devices, pivot, paths, process, ready, wait, exec in that order", () => {
    const ops = planContainer(spec(), ctx()).ops;
    const order = names(ops);
    expect(order[0]).toBe("CLONE");
    expect(order[1]).toBe("ROOTFS");
    const idx = (n: string) => order.indexOf(n as PlanOp["op"]);
    expect(idx("MOUNT")).toBeGreaterThan(idx("ROOTFS"));
    expect(idx("MKNOD")).toBeGreaterThan(idx("MOUNT"));
    expect(idx("PIVOT_ROOT")).toBeGreaterThan(idx("MKNOD"));
    expect(idx("HOSTNAME")).toBeGreaterThan(idx("PIVOT_ROOT"));
    expect(idx("READONLY")).toBeGreaterThan(idx("HOSTNAME"));
    expect(idx("MASK")).toBeGreaterThan(idx("READONLY"));
    expect(idx("REMOUNT_ROOT_RO")).toBeGreaterThan(idx("MASK"));
    expect(idx("USER")).toBeGreaterThan(idx("REMOUNT_ROOT_RO"));
    expect(idx("CAPS")).toBeGreaterThan(idx("USER"));
    expect(idx("LOOKUP")).toBeGreaterThan(idx("CAPS"));
    expect(order.slice(-3)).toEqual(["READY", "WAIT_START", "EXEC"]);
    expect(order).not.toContain("SYNC"); // no hooks, no round trip
  });

  test("clone flags are the config's new namespaces; joined ones are passed as (flag, path), user first", () => {
    const ops = planContainer(
      spec((s) => {
        s.linux!.namespaces = [
          { type: "mount" },
          { type: "pid" },
          { type: "uts" },
          { type: "network", path: "/run/netns/a" },
          { type: "user", path: "/proc/1/ns/user" },
        ];
      }),
      ctx(),
    ).ops;
    const clone = ops[0]!.args;
    expect(clone[0]).toBe(0x00020000 | 0x20000000 | 0x04000000);
    expect(clone.slice(6)).toEqual([0x10000000, "/proc/1/ns/user", 0x40000000, "/run/netns/a"]);
    expect(names(ops)).not.toContain("LOOPBACK_UP"); // the joined netns is not ours to change
  });

  test("--no-pivot moves the root instead of pivot_root", () => {
    const order = names(planContainer(spec(), ctx({ noPivot: true })).ops);
    expect(order).toContain("MOVE_ROOT");
    expect(order).not.toContain("PIVOT_ROOT");
  });

  test("hooks add one sync point and in-container hook ops at the spec's places", () => {
    const ops = planContainer(
      spec((s) => {
        s.hooks = {
          createRuntime: [{ path: "/bin/a" }],
          createContainer: [{ path: "/bin/b", args: ["b", "x"], env: ["K=V"], timeout: 3 }],
          startContainer: [{ path: "/bin/c" }],
        };
      }),
      ctx(),
    ).ops;
    const order = names(ops);
    expect(order.filter((n) => n === "SYNC")).toHaveLength(1);
    const hooks = ops.filter((o) => o.op === "HOOK");
    expect(hooks.map((h) => h.args[0])).toEqual(["createContainer hook #0", "startContainer hook #0"]);
    expect(hooks[0]!.args).toEqual(["createContainer hook #0", 0, "/bin/b", 3, 2, "b", "x", "K=V"]);
    expect(hooks[1]!.args.slice(0, 3)).toEqual(["startContainer hook #0", 1, "/bin/c"]);
    expect(order.indexOf("HOOK")).toBeLessThan(order.indexOf("PIVOT_ROOT"));
    expect(order.lastIndexOf("HOOK")).toBeGreaterThan(order.indexOf("WAIT_START"));
  });

  test("HOME comes from the image's passwd when the config does not set it", () => {
    const exec = planContainer(spec(), ctx({ facts: fakeFacts({}, "root:x:0:0:root:/root:/bin/sh\n") })).ops.at(-1)!;
    expect(exec.args).toContain("HOME=/root");
  });

  test("a mount namespace is required", () => {
    const noMountNs = (s: Spec) => {
      s.linux!.namespaces = [{ type: "pid" }];
      s.linux!.maskedPaths = [];
      s.linux!.readonlyPaths = [];
    };
    expect(() => planContainer(spec(noMountNs), ctx())).toThrow(
      /linux.namespaces: a mount namespace \(new or joined by path\) is required/,
    );
  });

  test("hostname needs a uts namespace", () => {
    expect(() => planContainer(spec((s) => (s.linux!.namespaces = [{ type: "mount" }])), ctx())).toThrow(/hostname: needs a new uts namespace/);
  });
});

describe("mounts", () => {
  const mctx = (files: Record<string, "dir" | "file"> = {}) => ({
    bundle: "/bundle",
    facts: fakeFacts(files),
    hasNamespace: () => true,
    cgroupDir: "/sys/fs/cgroup/x",
  });

  test("options split into flags, data, propagation and recursive attributes", () => {
    const o = parseMountOptions(["nosuid", "ro", "rw", "noexec", "mode=755", "size=64k", "rshared", "rro", "rnoatime", "tmpcopyup"], "m");
    expect(o.flags).toBe(MS.NOSUID | MS.NOEXEC);
    expect(o.data).toEqual(["mode=755", "size=64k"]);
    expect(o.firstData).toBe(4);
    expect(o.propagation).toEqual([{ flag: MS.SHARED, recursive: true }]);
    expect(o.recursive).toEqual({ set: ATTR.RDONLY | ATTR.NOATIME, clear: ATTR.ATIME_MASK });
    expect(o.copyUp).toBe(true);
  });

  test("every mount flag option of runc 1.1.5 maps to its MS_ flag; the later of a pair wins", () => {
    const table: [string, string, number][] = [
      ["ro", "rw", MS.RDONLY],
      ["nosuid", "suid", MS.NOSUID],
      ["nodev", "dev", MS.NODEV],
      ["noexec", "exec", MS.NOEXEC],
      ["sync", "async", MS.SYNCHRONOUS],
      ["mand", "nomand", MS.MANDLOCK],
      ["noatime", "atime", MS.NOATIME],
      ["nodiratime", "diratime", MS.NODIRATIME],
      ["relatime", "norelatime", MS.RELATIME],
      ["strictatime", "nostrictatime", MS.STRICTATIME],
      ["lazytime", "nolazytime", MS.LAZYTIME],
      ["nosymfollow", "symfollow", MS.NOSYMFOLLOW],
      ["acl", "noacl", MS.POSIXACL],
      ["iversion", "noiversion", MS.I_VERSION],
      ["silent", "loud", MS.SILENT],
    ];
    for (const [on, off, flag] of table) {
      expect({ on, flags: parseMountOptions([on], "m").flags }).toEqual({ on, flags: flag });
      expect({ on, off, flags: parseMountOptions([on, off], "m").flags }).toEqual({ on, off, flags: 0 });
      expect({ off, on, flags: parseMountOptions([off, on], "m").flags }).toEqual({ off, on, flags: flag });
      expect(parseMountOptions([on], "m").data).toEqual([]);
    }
    expect(parseMountOptions(["dirsync"], "m").flags).toBe(MS.DIRSYNC);
    expect(parseMountOptions(["remount"], "m").flags).toBe(MS.REMOUNT);
    expect(parseMountOptions(["bind"], "m").flags).toBe(MS.BIND);
    expect(parseMountOptions(["rbind"], "m").flags).toBe(MS.BIND | MS.REC);
    expect(parseMountOptions(["defaults"], "m")).toMatchObject({ flags: 0, data: [] });
  });

  test("recursive attributes accumulate into set and clear masks as in runc; a set bit wins", () => {
    const table: [string, { set: number; clear: number }][] = [
      ["rro", { set: ATTR.RDONLY, clear: 0 }],
      ["rrw", { set: 0, clear: ATTR.RDONLY }],
      ["rnosuid", { set: ATTR.NOSUID, clear: 0 }],
      ["rsuid", { set: 0, clear: ATTR.NOSUID }],
      ["rnodev", { set: ATTR.NODEV, clear: 0 }],
      ["rdev", { set: 0, clear: ATTR.NODEV }],
      ["rnoexec", { set: ATTR.NOEXEC, clear: 0 }],
      ["rexec", { set: 0, clear: ATTR.NOEXEC }],
      ["rnodiratime", { set: ATTR.NODIRATIME, clear: 0 }],
      ["rdiratime", { set: 0, clear: ATTR.NODIRATIME }],
      ["rnosymfollow", { set: ATTR.NOSYMFOLLOW, clear: 0 }],
      ["rsymfollow", { set: 0, clear: ATTR.NOSYMFOLLOW }],
      ["rrelatime", { set: ATTR.RELATIME, clear: ATTR.ATIME_MASK }],
      ["rnoatime", { set: ATTR.NOATIME, clear: ATTR.ATIME_MASK }],
      ["rstrictatime", { set: ATTR.STRICTATIME, clear: ATTR.ATIME_MASK }],
      ["rnorelatime", { set: 0, clear: 0 }],
    ];
    for (const [opt, masks] of table) expect({ opt, masks: parseMountOptions([opt], "m").recursive }).toEqual({ opt, masks });
    expect(parseMountOptions(["rro", "rrw"], "m").recursive).toEqual({ set: ATTR.RDONLY, clear: ATTR.RDONLY });
    expect(parseMountOptions(["rnoatime", "ratime"], "m").recursive).toEqual({ set: ATTR.NOATIME, clear: ATTR.ATIME_MASK });
    expect(parseMountOptions(["rrelatime", "rnoatime"], "m").recursive).toEqual({ set: ATTR.NOATIME, clear: ATTR.ATIME_MASK });
  });

  test("recursive atime options that mount_setattr cannot apply (runc fails with EINVAL) are refused, naming the option", () => {
    expect(() => parseMountOptions(["rbind", "ratime"], "mounts[1]")).toThrow(/mounts\[1\]\.options\[1\]: "ratime" cannot be applied alone/);
    expect(() => parseMountOptions(["rnostrictatime"], "mounts[1]")).toThrow(/options\[0\]: "rnostrictatime" cannot be applied alone/);
    expect(() => parseMountOptions(["rnoatime", "rstrictatime"], "mounts[1]")).toThrow(
      /options\[1\]: "rstrictatime" conflicts with "rnoatime" \(options\[0\]\)/,
    );
  });

  test("bad options name the field", () => {
    expect(() => parseMountOptions(["a,b"], "mounts[2]")).toThrow(/mounts\[2\]\.options\[0\]: invalid mount option/);
    expect(parseMountOptions(["ro", "idmap"], "mounts[0]").idmap).toEqual({ recursive: false, at: 1 });
  });

  test("bind mounts: source relative to the bundle, file or dir target, attributes by mount_setattr", () => {
    const { ops } = planMounts(
      [
        { destination: "/data", type: "bind", source: "data", options: ["rbind", "ro", "nosuid"] },
        { destination: "/etc/hosts", source: "/etc/hosts", options: ["bind"] },
      ],
      mctx({ "/bundle/data": "dir", "/etc/hosts": "file" }),
    );
    const perMount = ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC | ATTR.NOSYMFOLLOW;
    expect(ops).toEqual([
      { op: "BIND", args: ["/bundle/data", "/data", 1, 1], origin: "mounts[0]" },
      { op: "SETATTR", args: ["/data", ATTR.RDONLY | ATTR.NOSUID, perMount, 0, 0], origin: "mounts[0]" },
      { op: "BIND", args: ["/etc/hosts", "/etc/hosts", 0, 2], origin: "mounts[1]" },
    ]);
  });

  test("bind flags as runc's remount gives them: all or nothing, atime kept unless given", () => {
    const perMount = ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC | ATTR.NOSYMFOLLOW;
    const atime = ATTR.ATIME_MASK | ATTR.NODIRATIME;
    const flags = (...o: string[]) => parseMountOptions(o, "m").flags;
    // no flag besides bind: the bind keeps the source's flags, read-only included
    expect(bindAttributes(flags("bind", "rw"))).toBeUndefined();
    expect(bindAttributes(flags("rbind", "ro", "rw"))).toBeUndefined();
    // any other flag: exactly the given per-mount flags
    expect(bindAttributes(flags("bind", "rw", "nosuid"))).toEqual({ set: ATTR.NOSUID, clear: perMount });
    expect(bindAttributes(flags("bind", "ro"))).toEqual({ set: ATTR.RDONLY, clear: perMount });
    expect(bindAttributes(flags("bind", "nodev", "noexec"))).toEqual({ set: ATTR.NODEV | ATTR.NOEXEC, clear: perMount });
    expect(bindAttributes(flags("bind", "nosymfollow"))).toEqual({ set: ATTR.NOSYMFOLLOW, clear: perMount });
    expect(bindAttributes(flags("bind", "noatime"))).toEqual({ set: ATTR.NOATIME, clear: perMount | atime });
    expect(bindAttributes(flags("bind", "strictatime"))).toEqual({ set: ATTR.STRICTATIME, clear: perMount | atime });
    expect(bindAttributes(flags("bind", "noatime", "strictatime"))).toEqual({ set: ATTR.STRICTATIME, clear: perMount | atime });
    expect(bindAttributes(flags("bind", "relatime"))).toEqual({ set: ATTR.RELATIME, clear: perMount | atime });
    expect(bindAttributes(flags("bind", "nodiratime"))).toEqual({ set: ATTR.RELATIME | ATTR.NODIRATIME, clear: perMount | atime });
    // superblock flags cannot change on a bind; like runc, they still reset the per-mount flags
    for (const sb of ["sync", "dirsync", "lazytime", "mand", "acl", "iversion", "silent"]) {
      expect({ sb, attrs: bindAttributes(flags("bind", sb)) }).toEqual({ sb, attrs: { set: 0, clear: perMount } });
    }
    expect(bindAttributes(flags("bind", "remount"))).toEqual({ set: 0, clear: perMount });
  });

  test("bind remount changes the flags of the mount at the destination without a new bind", () => {
    const { ops } = planMounts([{ destination: "/d", type: "bind", source: "/x", options: ["bind", "remount", "ro"] }], mctx({ "/x": "dir" }));
    expect(names(ops)).toEqual(["SETATTR"]);
    expect(ops[0]!.args.slice(0, 2)).toEqual(["/d", ATTR.RDONLY]);
  });

  test("propagation options are applied in order, then recursive attributes", () => {
    const { ops } = planMounts([{ destination: "/d", type: "bind", source: "/x", options: ["rbind", "rro", "rshared", "slave"] }], mctx({ "/x": "dir" }));
    expect(ops.map((o) => o.args)).toEqual([
      ["/x", "/d", 1, 1],
      ["/d", 0, 0, MS.SHARED, 1],
      ["/d", 0, 0, MS.SLAVE, 0],
      ["/d", ATTR.RDONLY, 0, 0, 1],
    ]);
  });

  test("a bind mount refuses filesystem data options and tmpcopyup, naming the option", () => {
    expect(() => planMounts([{ destination: "/d", type: "bind", source: "/x", options: ["rbind", "bogus"] }], mctx({ "/x": "dir" }))).toThrow(
      /^config\.json: mounts\[0\]\.options\[1\]: bind mounts cannot have any filesystem-specific options applied \(got "bogus"\)$/,
    );
    expect(() => planMounts([{ destination: "/d", source: "/x", options: ["bind", "tmpcopyup"] }], mctx({ "/x": "dir" }))).toThrow(
      /mounts\[0\]\.options\[1\]: "tmpcopyup" is only for tmpfs mounts/,
    );
    expect(() => planMounts([{ destination: "/d", type: "proc", source: "proc", options: ["tmpcopyup"] }], mctx())).toThrow(/only for tmpfs/);
  });

  test("new filesystems: flags and data to mount(2); a tmpfs takes over the covered directory's mode, and with tmpcopyup its contents", () => {
    const { ops } = planMounts(
      [
        { destination: "/t", type: "tmpfs", source: "tmpfs", options: ["nosymfollow", "noatime", "sync", "dirsync", "lazytime", "silent", "size=1m"] },
        { destination: "/c", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup"] },
        { destination: "/m", type: "mqueue", source: "mqueue", options: ["nosuid", "strictatime", "iversion"] },
      ],
      mctx(),
    );
    const sb = MS.SYNCHRONOUS | MS.DIRSYNC | MS.LAZYTIME | MS.SILENT;
    expect(ops).toEqual([
      { op: "MOUNT", args: ["tmpfs", "/t", "tmpfs", MS.NOSYMFOLLOW | MS.NOATIME | sb, "size=1m", 1, COVER.MODE], origin: "mounts[0]" },
      { op: "MOUNT", args: ["tmpfs", "/c", "tmpfs", 0, "", 1, COVER.MODE | COVER.CONTENTS], origin: "mounts[1]" },
      { op: "MOUNT", args: ["mqueue", "/m", "mqueue", MS.NOSUID | MS.STRICTATIME | MS.I_VERSION, "", 1, 0], origin: "mounts[2]" },
    ]);
  });

  test("a read-only tmpfs (or /dev) is mounted writable and made read-only at the end, as in runc", () => {
    const plan = planMounts(
      [
        { destination: "/t", type: "tmpfs", source: "tmpfs", options: ["ro", "nosuid"] },
        { destination: "/t/sub", type: "tmpfs", source: "tmpfs", options: ["ro", "rw"] },
        { destination: "/dev", type: "devtmpfs", source: "devtmpfs", options: ["ro"] },
        { destination: "/p", type: "proc", source: "proc", options: ["ro"] },
      ],
      mctx(),
    );
    expect(plan.ops.filter((o) => o.op === "MOUNT").map((o) => o.args[3])).toEqual([MS.NOSUID, 0, 0, MS.RDONLY]);
    expect(plan.final).toEqual([
      { op: "SETATTR", args: ["/t", ATTR.RDONLY, 0, 0, 0], origin: "mounts[0]" },
      { op: "SETATTR", args: ["/dev", ATTR.RDONLY, 0, 0, 0], origin: "mounts[2]" },
    ]);
    const order = names(
      planContainer(
        spec((s) => s.mounts!.push({ destination: "/t", type: "tmpfs", source: "tmpfs", options: ["ro"] })),
        ctx(),
      ).ops,
    );
    const last = order.lastIndexOf("SETATTR");
    expect(last).toBeGreaterThan(order.lastIndexOf("MASK"));
    expect(last).toBeLessThan(order.indexOf("REMOUNT_ROOT_RO"));
  });

  test("a missing bind source and bind mounts into /proc are refused", () => {
    expect(() => planMounts([{ destination: "/x", type: "bind", source: "/nope" }], mctx())).toThrow(
      /mounts\[0\]\.source: "\/nope" does not exist/,
    );
    expect(() => planMounts([{ destination: "/proc/sysrq-trigger", type: "bind", source: "/x" }], mctx({ "/x": "file" }))).toThrow(
      /bind mounts into \/proc are not allowed/,
    );
    expect(planMounts([{ destination: "/proc/cpuinfo", type: "bind", source: "/x" }], mctx({ "/x": "file" })).ops[0]!.op).toBe("BIND");
  });

  test("destinations are normalized inside the container; / itself is refused", () => {
    const { ops } = planMounts([{ destination: "../../tmp/../x", type: "tmpfs", source: "tmpfs" }], mctx());
    expect(ops[0]!.args[1]).toBe("/x");
    expect(() => planMounts([{ destination: "/", type: "tmpfs" }], mctx())).toThrow(/cannot mount over/);
  });

  test("cgroup mounts: cgroup2 with a cgroup namespace, a bind of the container's cgroup without", () => {
    const m = [{ destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["ro"] }];
    expect(planMounts(m, mctx()).ops[0]).toEqual({ op: "MOUNT", args: ["cgroup2", "/sys/fs/cgroup", "cgroup2", MS.RDONLY, "", 1, 0], origin: "mounts[0]" });
    const noNs = { ...mctx(), hasNamespace: () => false };
    expect(planMounts(m, noNs).ops[0]).toEqual({ op: "BIND", args: ["/sys/fs/cgroup/x", "/sys/fs/cgroup", 0, 1], origin: "mounts[0]" });
  });

  test("root propagation: rslave by default; shared is applied after pivot_root", () => {
    expect(rootPropagation(undefined)).toEqual({ initial: MS.SLAVE | MS.REC });
    expect(rootPropagation("private")).toEqual({ initial: MS.PRIVATE | MS.REC, final: { flag: MS.PRIVATE, recursive: false } });
    expect(rootPropagation("slave")).toEqual({ initial: MS.SLAVE | MS.REC, final: { flag: MS.SLAVE, recursive: false } });
    expect(rootPropagation("rshared")).toEqual({ initial: MS.SLAVE | MS.REC, final: { flag: MS.SHARED, recursive: true } });
    expect(() => rootPropagation("bogus")).toThrow(/rootfsPropagation/);
  });
});

describe("devices", () => {
  test("defaults plus config devices; a config device replaces a default; runc's /dev symlinks", () => {
    const ops = planDevices(
      [
        { type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o600, uid: 5, gid: 6 },
        { type: "b", path: "/dev/sda", major: 8, minor: 0 },
        { type: "p", path: "/dev/fifo" },
      ],
      [{ destination: "/dev/pts", type: "devpts" }],
      false,
    );
    const nodes = ops.filter((o) => o.op === "MKNOD");
    expect(nodes.find((o) => o.args[0] === "/dev/null")!.args).toEqual(["/dev/null", 0o020600, 1, 3, 5, 6, "/dev/null"]);
    expect(nodes.find((o) => o.args[0] === "/dev/sda")!.args).toEqual(["/dev/sda", 0o060666, 8, 0, 0, 0, "/dev/sda"]);
    expect(nodes.find((o) => o.args[0] === "/dev/fifo")!.args[1]).toBe(0o010666);
    expect(nodes).toHaveLength(8);
    const links = ops.filter((o) => o.op === "SYMLINK").map((o) => o.args);
    expect(links).toContainEqual(["/proc/self/fd", "/dev/fd"]);
    expect(links).toContainEqual(["pts/ptmx", "/dev/ptmx"]);
  });

  test("devices outside /dev and bad types are refused, naming the field", () => {
    expect(() => planDevices([{ type: "c", path: "/etc/x", major: 1, minor: 1 }], [], false)).toThrow(/linux.devices\[0\].path: devices must be under \/dev/);
    expect(() => planDevices([{ type: "x" as "c", path: "/dev/x", major: 1, minor: 1 }], [], false)).toThrow(/linux.devices\[0\].type: unknown device type/);
    expect(() => planDevices([{ type: "c", path: "/dev/x" }], [], false)).toThrow(/needs major and minor/);
  });

  test("in a user namespace nodes are bind-mounted from the host, naming the type and device runts-init checks", () => {
    const ops = planDevices([{ type: "b", path: "/dev/sda", major: 8, minor: 0 }], [], true);
    expect(ops[0]).toEqual({ op: "BIND_DEV", args: ["/dev/null", "/dev/null", 0o020000, 1, 3] });
    expect(ops.find((o) => o.args[0] === "/dev/sda")).toEqual({ op: "BIND_DEV", args: ["/dev/sda", "/dev/sda", 0o060000, 8, 0] });
  });

  test("/dev/ptmx -> pts/ptmx without a devpts mount too; nothing for a /dev that is a bind mount (as runc)", () => {
    expect(planDevices([], [], false).filter((o) => o.op === "SYMLINK").map((o) => o.args)).toContainEqual(["pts/ptmx", "/dev/ptmx"]);
    expect(planDevices([{ type: "c", path: "/dev/ptmx", major: 5, minor: 2 }], [], false).filter((o) => o.args[1] === "/dev/ptmx")).toEqual([]);
    expect(planDevices([], [{ destination: "/dev", type: "bind", source: "/dev", options: ["rbind"] }], false)).toEqual([]);
    expect(planDevices([], [{ destination: "/dev/", source: "/dev", options: ["bind"] }], false)).toEqual([]);
    expect(planDevices([], [{ destination: "/dev", type: "tmpfs", source: "tmpfs" }], false).length).toBeGreaterThan(0);
  });
});

describe("process", () => {
  test("capability names become masks; unknown names are errors; names beyond the kernel are left out", () => {
    const m = capabilityMasks({ bounding: ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHECKPOINT_RESTORE"] }, 39);
    expect(m.bounding).toBe((1n << 5n) | (1n << 10n));
    expect(m.unsupported).toEqual(["CAP_CHECKPOINT_RESTORE"]);
    expect(() => capabilityMasks({ effective: ["CAP_NOPE"] }, 40)).toThrow(/process.capabilities.effective\[0\]: unknown capability "CAP_NOPE"/);
  });

  test("args[0] lookup follows the container's PATH", () => {
    expect(execCandidates("sh", ["PATH=/usr/bin:/bin"])).toEqual(["/usr/bin/sh", "/bin/sh"]);
    expect(execCandidates("./x", ["PATH=/bin"])).toEqual(["./x"]);
    expect(execCandidates("sh", [])).toEqual([]);
  });

  test("HOME from passwd", () => {
    const passwd = "root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000::/home/tester:/bin/sh\n";
    expect(homeFromPasswd(passwd, 1000)).toBe("/home/tester");
    expect(homeFromPasswd(passwd, 7)).toBe("/");
    expect(homeFromPasswd(undefined, 0)).toBe("/");
  });

  test("rlimits, env and cwd are checked", () => {
    expect(() => planContainer(spec((s) => (s.process!.rlimits = [{ type: "RLIMIT_BOGUS", soft: 1, hard: 1 }])), ctx())).toThrow(
      /process.rlimits\[0\].type: unknown rlimit type "RLIMIT_BOGUS"/,
    );
    expect(() => planContainer(spec((s) => (s.process!.rlimits = [{ type: "RLIMIT_NOFILE", soft: 2, hard: 1 }])), ctx())).toThrow(
      /soft limit 2 is above hard limit 1/,
    );
    expect(() => planContainer(spec((s) => (s.process!.env = ["NOEQUALS"])), ctx())).toThrow(/process.env\[0\]/);
    expect(() => planContainer(spec((s) => (s.process!.args = ["sh"]) && (s.process!.env = [])), ctx())).toThrow(/sets no PATH/);
  });

  test("scheduler, ioPriority, personality and CPU lists", () => {
    const s = spec((x) => {
      x.process!.scheduler = { policy: "SCHED_FIFO", priority: 5, flags: ["SCHED_FLAG_RESET_ON_FORK"] };
      x.process!.ioPriority = { class: "IOPRIO_CLASS_BE", priority: 4 };
      x.linux!.personality = { domain: "LINUX32" };
    });
    expect(planProcessAttributes(s)).toEqual([
      { op: "PERSONALITY", args: [8] },
      { op: "SCHED", args: [1, 5, 0, 1, 0, 0, 0] },
      { op: "IOPRIO", args: [(2 << 13) | 4] },
    ]);
    expect([...cpuSetBytes("0-2,9", "x").subarray(0, 2)]).toEqual([0b111, 0b10]);
    expect(() => cpuSetBytes("3-1", "process.execCPUAffinity.final")).toThrow(/invalid CPU list/);
    expect(() => planProcessAttributes(spec((x) => (x.process!.scheduler = { policy: "SCHED_NOPE" })))).toThrow(/process.scheduler.policy/);
  });
});

describe("sysctl and namespaces", () => {
  test("only namespaced sysctls of namespaces the container owns", () => {
    const owns = (t: string) => t !== "uts";
    expect(planSysctl({ "net.ipv4.ip_forward": "1", "kernel.shmmax": "100", "fs.mqueue.msg_max": "5" }, owns)).toEqual([
      { op: "WRITE_FILE", args: ["/proc/sys/net/ipv4/ip_forward", "1"] },
      { op: "WRITE_FILE", args: ["/proc/sys/kernel/shmmax", "100"] },
      { op: "WRITE_FILE", args: ["/proc/sys/fs/mqueue/msg_max", "5"] },
    ]);
    expect(() => planSysctl({ "kernel.panic": "1" }, owns)).toThrow(/not a namespaced sysctl/);
    expect(() => planSysctl({ "kernel.hostname": "x" }, owns)).toThrow(/needs a new uts namespace/);
    expect(() => planSysctl({ "net/../../kernel/panic": "1" }, owns)).toThrow(/invalid sysctl name/);
  });

  test("namespaces: unknown and duplicate types are errors", () => {
    expect(() => planNamespaces([{ type: "mount" }, { type: "mount" }])).toThrow(/duplicate mount namespace/);
    expect(() => planNamespaces([{ type: "bogus" as "pid" }])).toThrow(/unknown namespace/);
  });
});

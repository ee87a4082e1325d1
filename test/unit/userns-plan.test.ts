import { describe, expect, test } from "bun:test";
import type { PlanOp } from "../../src/helper/protocol.ts";
import { planContainer } from "../../src/plan/container.ts";
import type { HostFacts } from "../../src/plan/facts.ts";
import { hostId, planIdMaps } from "../../src/plan/idmap.ts";
import { MAX_ID } from "../../src/plan/ids.ts";
import { CLONE_FLAGS } from "../../src/plan/namespaces.ts";
import { defaultSpec } from "../../src/spec/defaultSpec.ts";
import type { IdMapping, Spec } from "../../src/spec/types.ts";
import { fakeFacts, planContext } from "../lib/plan-context.ts";

const facts = (maps?: { uid: string; gid: string }) =>
  fakeFacts({ "/src/a": "dir", "/src/b": "dir" }, undefined, { userNamespaceMaps: (p) => (p === "/proc/42/ns/user" ? maps : undefined) });

const ctx = (f = facts()) => planContext({ facts: f });

const RANGE = [{ containerID: 0, hostID: 100000, size: 65536 }];

const userns = (mutate?: (s: Spec) => void): Spec => {
  const s = defaultSpec() as unknown as Spec;
  s.process!.terminal = false;
  s.linux!.namespaces!.push({ type: "user" });
  s.linux!.uidMappings = RANGE;
  s.linux!.gidMappings = RANGE;
  mutate?.(s);
  return s;
};

const plan = (s: Spec, f?: HostFacts) => planContainer(s, ctx(f));
const op = (ops: PlanOp[], name: PlanOp["op"]) => ops.find((o) => o.op === name);

describe("id mappings", () => {
  test("become /proc/PID/uid_map text, one line per range", () => {
    const m = planIdMaps(
      [{ containerID: 0, hostID: 1000, size: 1 }, { containerID: 1, hostID: 100000, size: 65535 }],
      RANGE,
      "linux",
    );
    expect(m.uid).toBe("0 1000 1\n1 100000 65535\n");
    expect(m.gid).toBe("0 100000 65536\n");
    expect(hostId(m.uidRanges, 0)).toBe(1000);
    expect(hostId(m.uidRanges, 65535)).toBe(165534);
    expect(hostId(m.uidRanges, 65536)).toBeUndefined();
  });

  test.each([
    ["empty", [], "linux.uidMappings: a user namespace needs at least one mapping"],
    ["size 0", [{ containerID: 0, hostID: 1, size: 0 }], "linux.uidMappings[0].size: 0 is not a valid mapping size"],
    ["an id above int32", [{ containerID: MAX_ID + 1, hostID: 1, size: 1 }], `linux.uidMappings[0].containerID: ${MAX_ID + 1} is not a valid id (0..${MAX_ID})`],
    ["a size overflow", [{ containerID: 0, hostID: 1, size: MAX_ID + 1 }], `linux.uidMappings[0].size: hostID 1 + size ${MAX_ID + 1} runs past the largest id ${MAX_ID}`],
    ["a negative id", [{ containerID: -1, hostID: 1, size: 1 }], "linux.uidMappings[0].containerID: -1 is not a valid id"],
    [
      "overlapping container ids",
      [{ containerID: 0, hostID: 0, size: 10 }, { containerID: 9, hostID: 100, size: 1 }],
      "linux.uidMappings[1]: containerID range 9-9 overlaps linux.uidMappings[0] (0-9)",
    ],
    [
      "overlapping host ids",
      [{ containerID: 0, hostID: 0, size: 10 }, { containerID: 10, hostID: 5, size: 1 }],
      "linux.uidMappings[1]: hostID range 5-5 overlaps linux.uidMappings[0] (0-9)",
    ],
    ["341 ranges", Array.from({ length: 341 }, (_, i) => ({ containerID: i, hostID: i, size: 1 })), "linux.uidMappings: 341 mappings; the kernel takes at most 340"],
  ] as [string, IdMapping[], string][])("refused: %s", (_name, uid, message) => {
    expect(() => planIdMaps(uid, RANGE, "linux")).toThrow(message);
  });

  test("uid and gid mappings come together", () => {
    expect(() => planIdMaps(RANGE, undefined, "mounts[3]")).toThrow("mounts[3].gidMappings: required with mounts[3].uidMappings");
  });
});

describe("the user namespace in the plan", () => {
  test("a new user namespace: maps for runts to write, the clone flag, devices bound from the host", () => {
    const p = plan(userns());
    expect(p.idMaps?.uid).toBe("0 100000 65536\n");
    expect(Number(p.ops[0]!.args[0]) & CLONE_FLAGS.user).toBe(CLONE_FLAGS.user);
    expect(op(p.ops, "MKNOD")).toBeUndefined();
    expect(op(p.ops, "BIND_DEV")?.args.slice(0, 2)).toEqual(["/dev/null", "/dev/null"]);
  });

  test("no user namespace: nothing to write", () => {
    const s = defaultSpec() as unknown as Spec;
    s.process!.terminal = false;
    expect(planContainer(s, ctx()).idMaps).toBeUndefined();
  });

  test("refused: mappings without a user namespace, a namespace without mappings, unmapped root or process ids", () => {
    expect(() => plan(userns((s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "user"))))).toThrow(
      'linux.uidMappings: mappings need a user namespace (linux.namespaces has no "user")',
    );
    expect(() => plan(userns((s) => (delete s.linux!.uidMappings, delete s.linux!.gidMappings)))).toThrow(
      "linux.uidMappings: a new user namespace needs uidMappings and gidMappings",
    );
    expect(() => plan(userns((s) => (s.linux!.gidMappings = [{ containerID: 1, hostID: 100000, size: 10 }])))).toThrow(
      "linux.gidMappings: must map container gid 0",
    );
    expect(() => plan(userns((s) => (s.process!.user.additionalGids = [70000])))).toThrow(
      "process.user.additionalGids[0]: 70000 is not mapped by linux.gidMappings",
    );
  });

  test("a joined user namespace: its own maps apply; mappings in the config must match them", () => {
    const join = (s: Spec) => (s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === "user" ? { type: "user", path: "/proc/42/ns/user" } : n)));
    const same = { uid: "         0     100000      65536\n", gid: "0 100000 65536\n" };
    const p = plan(userns(join), facts(same));
    expect(p.idMaps).toBeUndefined();
    expect(p.ops[0]!.args.slice(6)).toEqual([CLONE_FLAGS.user, "/proc/42/ns/user"]);
    expect(() => plan(userns(join), facts({ uid: "0 200000 65536\n", gid: same.gid }))).toThrow(
      'linux.uidMappings: do not match the mappings of the joined user namespace "/proc/42/ns/user"',
    );
    expect(() =>
      plan(
        userns((s) => (s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === "user" ? { type: "user", path: "/run/userns/pod" } : n)))),
        facts(same),
      ),
    ).toThrow('linux.uidMappings: cannot read the mappings of the joined user namespace "/run/userns/pod"');
    const bare = userns((s) => (join(s), delete s.linux!.uidMappings, delete s.linux!.gidMappings));
    expect(plan(bare, facts()).idMaps).toBeUndefined();
  });
});

describe("idmapped mounts", () => {
  const one = [{ containerID: 1000, hostID: 100000, size: 1 }];
  test("become a parent IDMAP_TREE before CLONE and an ATTACH_TREE in the mount's place", () => {
    const p = plan(
      userns((s) =>
        s.mounts!.push(
          { destination: "/a", type: "bind", source: "/src/a", options: ["rbind", "ridmap", "ro"], uidMappings: one, gidMappings: one },
          { destination: "/b", type: "bind", source: "/src/b", options: ["bind", "idmap"] },
        ),
      ),
    );
    const names = p.ops.map((o) => o.op);
    expect(names.slice(0, 3)).toEqual(["IDMAP_TREE", "IDMAP_TREE", "CLONE"]);
    expect(p.ops[0]!.args).toEqual(["/src/a", 1, 1, "1000 100000 1\n", "1000 100000 1\n"]);
    expect(p.ops[1]!.args).toEqual(["/src/b", 0, 0, "0 100000 65536\n", "0 100000 65536\n"]);
    const attach = p.ops.filter((o) => o.op === "ATTACH_TREE");
    expect(attach.map((o) => o.args)).toEqual([[0, "/a", 1], [1, "/b", 1]]);
    expect(attach.map((o) => o.origin)).toEqual(["mounts[7]", "mounts[8]"]);
    // "ro" still applies, through mount_setattr after the attach
    expect(p.ops[p.ops.indexOf(attach[0]!) + 1]!.op).toBe("SETATTR");
    expect(p.ops.filter((o) => o.op === "BIND").map((o) => o.args[1])).toEqual(["/sys/fs/cgroup"]);
  });

  test("mappings of its own work without a container user namespace", () => {
    const s = defaultSpec() as unknown as Spec;
    s.process!.terminal = false;
    s.mounts!.push({ destination: "/a", type: "bind", source: "/src/a", options: ["bind"], uidMappings: one, gidMappings: one });
    expect(planContainer(s, ctx()).ops[0]!.op).toBe("IDMAP_TREE");
  });

  test("refused: idmap on a non-bind mount, a bare idmap without container mappings, remount", () => {
    expect(() => plan(userns((s) => s.mounts!.push({ destination: "/t", type: "tmpfs", source: "tmpfs", options: ["ridmap"] })))).toThrow(
      'mounts[7].options[0]: "ridmap" is only for bind mounts (type "tmpfs")',
    );
    expect(() => plan(userns((s) => s.mounts!.push({ destination: "/t", type: "tmpfs", source: "tmpfs", uidMappings: one, gidMappings: one })))).toThrow(
      "mounts[7].uidMappings: idmapping is only for bind mounts",
    );
    const s = defaultSpec() as unknown as Spec;
    s.process!.terminal = false;
    s.mounts!.push({ destination: "/a", type: "bind", source: "/src/a", options: ["bind", "idmap"] });
    expect(() => planContainer(s, ctx())).toThrow('mounts[7].options[1]: "idmap" without mounts[7].uidMappings needs the container\'s linux.uidMappings');
    expect(() => plan(userns((s2) => s2.mounts!.push({ destination: "/a", type: "bind", source: "/src/a", options: ["bind", "remount", "idmap"] })))).toThrow(
      'mounts[7].options: "remount" cannot be idmapped',
    );
  });
});

describe("rootless plans", () => {
  test("the init clones the rootfs; idmapped mounts and time offsets are refused", () => {
    const rootless = (s: Spec) => planContainer(s, { ...ctx(), rootless: true });
    expect(rootless(userns()).ops[1]).toEqual({ op: "ROOTFS", args: [0x80000 | 0x4000, 1] });
    expect(plan(userns()).ops[1]).toEqual({ op: "ROOTFS", args: [0x80000 | 0x4000, 0] });
    const one = [{ containerID: 0, hostID: 100000, size: 1 }];
    expect(() => rootless(userns((s) => s.mounts!.push({ destination: "/a", type: "bind", source: "/src/a", options: ["bind"], uidMappings: one, gidMappings: one })))).toThrow(
      "mounts[7]: idmapped mounts need runts to run as root (not rootless)",
    );
    expect(() => rootless(userns((s) => (s.linux!.namespaces!.push({ type: "time" }), (s.linux!.timeOffsets = { boottime: { secs: 1 } }))))).toThrow(
      "linux.timeOffsets: time namespace offsets need runts to run as root (not rootless)",
    );
    const plain = defaultSpec() as unknown as Spec;
    plain.process!.terminal = false;
    expect(() => rootless(plain)).toThrow("linux.namespaces: a rootless container needs a new user namespace");
  });
});

describe("time offsets", () => {
  const timens = (offsets: Record<string, { secs?: number; nanosecs?: number }>, ns: object = { type: "time" }) => {
    const s = defaultSpec() as unknown as Spec;
    s.process!.terminal = false;
    s.linux!.namespaces!.push(ns as never);
    s.linux!.timeOffsets = offsets;
    return s;
  };

  test("a parent TIME_OFFSETS op before CLONE, whose flags then leave the time namespace out", () => {
    const ops = planContainer(timens({ monotonic: { secs: -5, nanosecs: 7 }, boottime: { secs: 86400 } }), ctx()).ops;
    expect(ops[0]).toEqual({ op: "TIME_OFFSETS", args: ["monotonic -5 7\nboottime 86400 0\n"], origin: "linux.timeOffsets" });
    expect(ops[1]!.op).toBe("CLONE");
    expect(Number(ops[1]!.args[0]) & CLONE_FLAGS.time).toBe(0);
  });

  test("a time namespace without offsets is a clone flag", () => {
    const s = timens({});
    delete s.linux!.timeOffsets;
    const ops = planContainer(s, ctx()).ops;
    expect(ops[0]!.op).toBe("CLONE");
    expect(Number(ops[0]!.args[0]) & CLONE_FLAGS.time).toBe(CLONE_FLAGS.time);
  });

  test("refused: an unknown clock, bad nanoseconds, no or a joined time namespace", () => {
    expect(() => planContainer(timens({ realtime: { secs: 1 } }), ctx())).toThrow("linux.timeOffsets.realtime: unknown clock (monotonic or boottime)");
    expect(() => planContainer(timens({ boottime: { nanosecs: 1e9 } }), ctx())).toThrow("linux.timeOffsets.boottime.nanosecs: 1000000000 is not in 0..999999999");
    expect(() => planContainer(timens({ boottime: { secs: 1 } }, { type: "cgroup" }), ctx())).toThrow(
      'linux.timeOffsets: needs a new time namespace (linux.namespaces has no "time")',
    );
    expect(() => planContainer(timens({ boottime: { secs: 1 } }, { type: "time", path: "/proc/1/ns/time" }), ctx())).toThrow(
      "linux.timeOffsets: needs a new time namespace (linux.namespaces joins one by path)",
    );
  });
});

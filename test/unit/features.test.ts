// `features` against the code it describes, and the pure planners behind this branch:
// planConsole, planMemoryPolicy, list's table.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { table } from "../../src/cli/list.ts";
import { features } from "../../src/features.ts";
import { ConsoleMode, helperFd, Op } from "../../src/helper/protocol.ts";
import { CAPABILITIES } from "../../src/plan/capabilities.ts";
import { planConsole } from "../../src/plan/console.ts";
import { planMemoryPolicy } from "../../src/plan/mempolicy.ts";
import { MOUNT_OPTION_NAMES, parseMountOptions } from "../../src/plan/mounts.ts";
import { planNamespaces } from "../../src/plan/namespaces.ts";
import { UNSUPPORTED } from "../../src/plan/unsupported.ts";
import { checkFeatures } from "../../src/spec/validate.ts";
import type { Spec } from "../../src/spec/types.ts";

const f = features() as any;

describe("features", () => {
  test("valid against schemas/features.schema.json", () => {
    expect(checkFeatures(f)).toBeNull();
  });

  test("every listed mount option is one the planner gives a meaning (never filesystem data)", () => {
    expect(f.mountOptions).toEqual(MOUNT_OPTION_NAMES);
    for (const o of f.mountOptions as string[]) {
      const parsed = parseMountOptions(o === "ratime" || o === "rnostrictatime" ? [o, "rrelatime"] : [o], "mounts[0]");
      expect([o, parsed.data]).toEqual([o, []]);
    }
  });

  test("an option that is not listed is filesystem data, never a mount flag", () => {
    expect(f.mountOptions).not.toContain("size=1k");
    expect(parseMountOptions(["size=1k"], "mounts[0]")).toMatchObject({ flags: 0, data: ["size=1k"] });
  });

  test("idmapped mounts are listed, and their options parsed as idmapping", () => {
    expect(f.linux.mountExtensions.idmap.enabled).toBe(true);
    for (const o of ["idmap", "ridmap"]) {
      expect(f.mountOptions).toContain(o);
      expect(parseMountOptions([o], "mounts[0]").idmap).toEqual({ recursive: o === "ridmap", at: 0 });
    }
  });

  test("every listed namespace is planned; an unlisted one is refused", () => {
    for (const type of f.linux.namespaces as string[]) {
      const ns = planNamespaces([{ type: "mount" }, ...(type === "mount" ? [] : [{ type }])] as any);
      expect(ns.has(type as any)).toBe(true);
      expect(ns.cloneFlags).not.toBe(0);
    }
    expect(() => planNamespaces([{ type: "mount" }, { type: "bogus" }] as any)).toThrow(/unknown namespace "bogus"/);
  });

  test("a linux feature reported disabled is one create refuses (src/plan/unsupported.ts)", () => {
    const fields: Record<string, string> = { seccomp: "linux.seccomp", apparmor: "process.apparmorProfile", selinux: "process.selinuxLabel", intelRdt: "linux.intelRdt" };
    for (const [name, field] of Object.entries(fields)) {
      expect([name, f.linux[name].enabled]).toEqual([name, !UNSUPPORTED.some((u) => u.field === field)]);
    }
  });

  test("capabilities are the planner's table; memoryPolicy modes and flags are the planner's", () => {
    expect(f.linux.capabilities).toEqual(CAPABILITIES);
    const spec = (memoryPolicy: unknown) => ({ linux: { memoryPolicy } }) as unknown as Spec;
    for (const mode of f.linux.memoryPolicy.modes) {
      const nodes = mode === "MPOL_DEFAULT" || mode === "MPOL_LOCAL" ? undefined : "0";
      expect(planMemoryPolicy(spec({ mode, nodes }))).toHaveLength(1);
    }
    for (const flag of f.linux.memoryPolicy.flags) expect(planMemoryPolicy(spec({ mode: "MPOL_BIND", nodes: "0", flags: [flag] }))).toHaveLength(1);
    expect(() => planMemoryPolicy(spec({ mode: "MPOL_NOPE" }))).toThrow(/invalid memory policy mode "MPOL_NOPE"/);
    expect(() => planMemoryPolicy(spec({ mode: "MPOL_BIND", nodes: "0", flags: ["X"] }))).toThrow(/flags\[0\]: invalid memory policy flag "X"/);
  });
});

describe("planMemoryPolicy", () => {
  const plan = (memoryPolicy: unknown) => planMemoryPolicy({ linux: { memoryPolicy } } as unknown as Spec);
  test("mode | flags, and the node mask in whole 64-bit words", () => {
    const [op] = plan({ mode: "MPOL_INTERLEAVE", nodes: "0,2-3,64", flags: ["MPOL_F_STATIC_NODES"] });
    expect(op!.args[0]).toBe(3 | (1 << 15));
    const mask = op!.args[1] as Uint8Array;
    expect(mask.length).toBe(16);
    expect(mask[0]).toBe(0b1101);
    expect(mask[8]).toBe(1);
  });
  test("no nodes: an empty mask; nodes for MPOL_DEFAULT or MPOL_LOCAL: runc's error", () => {
    expect((plan({ mode: "MPOL_PREFERRED" })[0]!.args[1] as Uint8Array).length).toBe(0);
    expect(() => plan({ mode: "MPOL_LOCAL", nodes: "1" })).toThrow(/MPOL_LOCAL mode requires 0 nodes but got 1/);
    expect(() => plan({ mode: "MPOL_BIND", nodes: "3-1" })).toThrow(/invalid memory policy nodes "3-1"/);
    expect(() => plan({ mode: "MPOL_BIND", nodes: "1024" })).toThrow(/invalid memory policy node 1024/);
  });
});

describe("planConsole", () => {
  const base = { stdinIsTty: false, preserveFds: 2, mountConsole: true };
  const tty = { terminal: true, consoleSize: { height: 10, width: 20 } } as any;
  test("detached: the socket runts passes (after the preserved fds and the control socket)", () => {
    const c = planConsole(tty, { ...base, detach: true, socket: "/s" })!;
    expect(c.op.args).toEqual([ConsoleMode.SOCKET, helperFd.consoleSocket(2), 10, 20, 1]);
    expect(helperFd.consoleSocket(2)).toBe(6);
    expect(c.relay).toBeUndefined();
  });
  test("foreground: a relay, raw when stdin is a terminal; consoleSize only when both are set", () => {
    expect(planConsole(tty, { ...base, detach: false })!.relay).toBe("plain");
    expect(planConsole(tty, { ...base, detach: false, stdinIsTty: true })!.op.args[0]).toBe(ConsoleMode.RELAY_RAW);
    expect(planConsole({ terminal: true, consoleSize: { height: 5, width: 0 } } as any, { ...base, detach: false })!.op.args.slice(2, 4)).toEqual([0, 0]);
  });
  test("runc's refusals", () => {
    expect(() => planConsole(tty, { ...base, detach: true })).toThrow(/process\.terminal: .*needs --console-socket/);
    expect(() => planConsole({ terminal: false } as any, { ...base, detach: true, socket: "/s" })).toThrow(/--console-socket "\/s": needs process\.terminal true/);
    expect(() => planConsole(tty, { ...base, detach: false, socket: "/s" })).toThrow(/detached process/);
    expect(planConsole({ terminal: false } as any, { ...base, detach: true })).toBeUndefined();
  });
  test("OP_CONSOLE's modes agree with native/protocol.h", () => {
    const header = readFileSync(new URL("../../native/protocol.h", import.meta.url), "utf8");
    expect(header).toMatch(new RegExp(`OP_CONSOLE = ${Op.CONSOLE},`));
    for (const [name, num] of Object.entries(ConsoleMode)) expect(header).toMatch(new RegExp(`CONSOLE_${name} = ${num},`));
  });
});

describe("list table", () => {
  test("Go tabwriter columns: at least 12 wide, 3 of padding, the last column unpadded", () => {
    expect(table([["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]])).toBe("ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
    expect(table([["ID", "PID"], ["a-rather-long-id", "1"]])).toBe(`${"ID".padEnd(19)}PID\n${"a-rather-long-id".padEnd(19)}1\n`);
  });
});

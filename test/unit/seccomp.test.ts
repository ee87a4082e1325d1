import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { encodePlan, Op, type PlanOp } from "../../src/helper/protocol.ts";
import { planContainer, type CreateContext } from "../../src/plan/container.ts";
import { planExec } from "../../src/plan/exec.ts";
import { FILTER_FLAG, placeSeccomp, type SeccompProgram, seccompProfile } from "../../src/plan/seccomp.ts";
import { compileSeccomp } from "../../src/seccomp/libseccomp.ts";
import { processState } from "../../src/seccomp/listener.ts";
import { seccompProgram, storedProgram, storeProgram } from "../../src/seccomp/program.ts";
import { defaultSpec } from "../../src/spec/defaultSpec.ts";
import { loadSpec } from "../../src/spec/load.ts";
import type { SeccompSpec, Spec } from "../../src/spec/types.ts";
import { fakeFacts, planContext } from "../lib/plan-context.ts";
import { podmanSeccomp } from "../lib/seccomp-profiles.ts";

const ALLOW = 0x7fff_0000;
const ERRNO = (e: number) => 0x0005_0000 | e;
const KILL_THREAD = 0;

describe("seccompProfile (runc's conversion)", () => {
  test("actions, with ERRNO and TRACE returning EPERM unless errnoRet says otherwise", () => {
    const p = seccompProfile({
      defaultAction: "SCMP_ACT_ERRNO",
      defaultErrnoRet: 38,
      syscalls: [
        { names: ["a"], action: "SCMP_ACT_ERRNO" },
        { names: ["b"], action: "SCMP_ACT_TRACE" },
        { names: ["c"], action: "SCMP_ACT_TRACE", errnoRet: 7 },
        { names: ["d", "e"], action: "SCMP_ACT_KILL" },
        { names: ["f"], action: "SCMP_ACT_KILL_PROCESS" },
        { names: ["g"], action: "SCMP_ACT_TRAP" },
        { names: ["h"], action: "SCMP_ACT_LOG" },
        { names: ["i"], action: "SCMP_ACT_ALLOW" },
        { names: ["j"], action: "SCMP_ACT_ERRNO", errnoRet: 0 },
      ],
    });
    expect(p.defaultAction).toBe(ERRNO(38));
    expect(p.rules.map((r) => [r.name, r.action])).toEqual([
      ["a", ERRNO(1)],
      ["b", 0x7ff0_0001],
      ["c", 0x7ff0_0007],
      ["d", KILL_THREAD],
      ["e", KILL_THREAD],
      ["f", 0x8000_0000],
      ["g", 0x0003_0000],
      ["h", 0x7ffc_0000],
      ["i", ALLOW],
      ["j", ERRNO(0)],
    ]);
    expect(p.rules[4]!.field).toBe("linux.seccomp.syscalls[3].names[1]");
  });

  test("a rule with the default action is dropped (libseccomp refuses it), as runc does", () => {
    const p = seccompProfile({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["x"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }, { names: ["y"], action: "SCMP_ACT_ERRNO", errnoRet: 2 }] });
    expect(p.rules.map((r) => r.name)).toEqual(["y"]);
  });

  test("conditions: ANDed in one rule; one rule each when two test the same argument", () => {
    const and = seccompProfile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["socket"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 16, op: "SCMP_CMP_EQ" }, { index: 2, value: 9, op: "SCMP_CMP_EQ" }] }] });
    expect(and.rules[0]!.conditionSets).toEqual([[{ arg: 0, op: 4, datumA: 16n, datumB: 0n }, { arg: 2, op: 4, datumA: 9n, datumB: 0n }]]);
    const or = seccompProfile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["clone"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }, { index: 0, value: 0xff, valueTwo: 2, op: "SCMP_CMP_MASKED_EQ" }] }] });
    expect(or.rules[0]!.conditionSets).toEqual([[{ arg: 0, op: 4, datumA: 1n, datumB: 0n }], [{ arg: 0, op: 7, datumA: 0xffn, datumB: 2n }]]);
    const none = seccompProfile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["x"], action: "SCMP_ACT_KILL" }] });
    expect(none.rules[0]!.conditionSets).toEqual([[]]);
  });

  test("64-bit values: exact bigints, and 2^64-1 from a plain JSON.parse (2^64)", () => {
    const p = seccompProfile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["x"], action: "SCMP_ACT_KILL", args: [{ index: 1, value: 18446744073709551614n, valueTwo: 2 ** 64, op: "SCMP_CMP_GT" }] }] });
    expect(p.rules[0]!.conditionSets[0]![0]).toEqual({ arg: 1, op: 6, datumA: 0xffff_ffff_ffff_fffen, datumB: 0xffff_ffff_ffff_ffffn });
  });

  test("architectures map to libseccomp's names", () => {
    const p = seccompProfile({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"] });
    expect(p.architectures.map((a) => a.name)).toEqual(["x86_64", "x86", "x32", "aarch64"]);
  });

  test("flags: SPEC_ALLOW without a flags field (runc's default), none with [], NEW_LISTENER (and TSYNC_ESRCH with TSYNC) for notify", () => {
    expect(seccompProfile({ defaultAction: "SCMP_ACT_ALLOW" }).loadFlags).toBe(FILTER_FLAG.SECCOMP_FILTER_FLAG_SPEC_ALLOW);
    expect(seccompProfile({ defaultAction: "SCMP_ACT_ALLOW", flags: [] }).loadFlags).toBe(0);
    expect(seccompProfile({ defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_TSYNC"] }).loadFlags).toBe(3);
    const notify = seccompProfile({
      defaultAction: "SCMP_ACT_ALLOW",
      flags: ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
      listenerPath: "/run/agent.sock",
      listenerMetadata: "m",
      syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }],
    });
    expect(notify.loadFlags).toBe(1 | 32 | 8 | 16);
    expect(notify.listener).toEqual({ path: "/run/agent.sock", metadata: "m" });
  });

  test("binary-tree optimization above 32 syscall names, as runc", () => {
    const names = Array.from({ length: 33 }, (_, i) => `s${i}`);
    expect(seccompProfile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names, action: "SCMP_ACT_KILL" }] }).optimize).toBe(true);
    expect(seccompProfile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: names.slice(1), action: "SCMP_ACT_KILL" }] }).optimize).toBe(false);
  });

  const bad: [string, SeccompSpec, string][] = [
    ["errnoRet above MAX_ERRNO", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["x"], action: "SCMP_ACT_ERRNO", errnoRet: 4096 }] }, "linux.seccomp.syscalls[0].errnoRet: 4096 is out of range"],
    ["defaultErrnoRet above MAX_ERRNO", { defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 65536 }, "linux.seccomp.defaultErrnoRet: 65536 is out of range"],
    ["errnoRet on an action without an errno", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["x"], action: "SCMP_ACT_KILL", errnoRet: 1 }] }, "linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE"],
    ["an argument index above 5", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["x"], action: "SCMP_ACT_KILL", args: [{ index: 6, value: 0, op: "SCMP_CMP_EQ" }] }] }, "linux.seccomp.syscalls[0].args[0].index: 6 is out of range"],
    ["an unknown operator", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["x"], action: "SCMP_ACT_KILL", args: [{ index: 0, value: 0, op: "SCMP_CMP_XX" }] }] }, "linux.seccomp.syscalls[0].args[0].op: unknown operator"],
    ["an unknown action", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["x"], action: "SCMP_ACT_XX" }] }, "linux.seccomp.syscalls[0].action: unknown action"],
    ["an unknown architecture", { defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_VAX"] }, "linux.seccomp.architectures[0]: unknown architecture"],
    ["an empty syscall name", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: [""], action: "SCMP_ACT_KILL" }] }, "linux.seccomp.syscalls[0].names[0]: an empty string"],
    ["NOTIFY as the default", { defaultAction: "SCMP_ACT_NOTIFY", listenerPath: "/x" }, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default"],
    ["NOTIFY without listenerPath", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }] }, "linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY"],
    ["listenerPath without NOTIFY", { defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/x" }, "linux.seccomp.listenerPath: set, but no rule uses SCMP_ACT_NOTIFY"],
    ["NOTIFY on the fd handover", { defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/x", syscalls: [{ names: ["mkdir", "sendmsg"], action: "SCMP_ACT_NOTIFY" }] }, "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for sendmsg"],
    ["WAIT_KILLABLE_RECV without NOTIFY", { defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] }, "linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a rule with SCMP_ACT_NOTIFY"],
  ];
  for (const [what, s, message] of bad) {
    test(`refuses ${what}, naming the field`, () => {
      expect(() => seccompProfile(s)).toThrow(message);
    });
  }
});

// ---- the compiled program, run by effect through a classic-BPF interpreter -----------------

const AUDIT_ARCH = { x86_64: 0xc000_003e, x86: 0x4000_0003 } as const;
const X32_BIT = 0x4000_0000;

/** Runs a seccomp BPF program (the instructions libseccomp emits) on one struct seccomp_data. */
function runBpf(bpf: Uint8Array, arch: number, nr: number, args: bigint[] = []): number {
  const data = new DataView(new ArrayBuffer(64));
  data.setInt32(0, nr, true);
  data.setUint32(4, arch, true);
  args.forEach((a, i) => data.setBigUint64(16 + 8 * i, BigInt.asUintN(64, a), true));
  const prog = new DataView(bpf.buffer, bpf.byteOffset, bpf.byteLength);
  const mem = new Uint32Array(16);
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < bpf.length / 8; pc++) {
    const code = prog.getUint16(pc * 8, true);
    const jt = prog.getUint8(pc * 8 + 2);
    const jf = prog.getUint8(pc * 8 + 3);
    const k = prog.getUint32(pc * 8 + 4, true);
    const src = code & 0x08 ? x : k;
    switch (code & 0x07) {
      case 0x00: // LD
        if ((code & 0xe0) === 0x20) a = data.getUint32(k, true);
        else if ((code & 0xe0) === 0x00) a = k;
        else if ((code & 0xe0) === 0x60) a = mem[k]!;
        else throw new Error(`ld mode ${code.toString(16)}`);
        break;
      case 0x01: // LDX
        x = (code & 0xe0) === 0x60 ? mem[k]! : k;
        break;
      case 0x02: // ST
        mem[k] = a;
        break;
      case 0x03: // STX
        mem[k] = x;
        break;
      case 0x04: // ALU
        if ((code & 0xf0) === 0x50) a = (a & src) >>> 0;
        else if ((code & 0xf0) === 0x40) a = (a | src) >>> 0;
        else throw new Error(`alu op ${code.toString(16)}`);
        break;
      case 0x05: {
        // JMP
        const op = code & 0xf0;
        if (op === 0x00) {
          pc += k;
          break;
        }
        const taken = op === 0x10 ? a === src : op === 0x20 ? a > src : op === 0x30 ? a >= src : op === 0x40 ? (a & src) !== 0 : (() => { throw new Error(`jmp ${code.toString(16)}`); })();
        pc += taken ? jt : jf;
        break;
      }
      case 0x06: // RET
        return k;
      case 0x07: // MISC
        if (code === 0x07) x = a;
        else a = x;
        break;
    }
  }
  throw new Error("fell off the end of the program");
}

// x86_64 and i386 syscall numbers
const NR = { mkdir: 83, personality: 135, socket: 41, add_key: 248, getpid: 39, kexec_load: 246, clone3: 435, io_uring_setup: 425 };
const NR_X86 = { mkdir: 39, getpid: 20, personality: 136 };

describe("compileSeccomp (libseccomp), by effect", () => {
  const podman = compileSeccomp(seccompProfile(podmanSeccomp(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]) as unknown as SeccompSpec));

  test("podman's default profile: allowed, argument-filtered and default-denied syscalls, on x86_64, x86 and x32", () => {
    const x64 = (nr: number, ...args: bigint[]) => runBpf(podman.bpf, AUDIT_ARCH.x86_64, nr, args);
    expect(x64(NR.mkdir)).toBe(ALLOW);
    expect(x64(NR.getpid)).toBe(ALLOW);
    expect(x64(NR.add_key)).toBe(ERRNO(38));
    expect(x64(NR.kexec_load)).toBe(ERRNO(1));
    expect(x64(NR.personality, 0n)).toBe(ALLOW);
    expect(x64(NR.personality, 8n)).toBe(ALLOW);
    expect(x64(NR.personality, 0xffff_ffffn)).toBe(ALLOW);
    expect(x64(NR.personality, 1n)).toBe(ERRNO(38));
    // 64-bit compare: a high word set is not PER_LINUX
    expect(x64(NR.personality, 1n << 32n)).toBe(ERRNO(38));
    expect(x64(NR.socket, 16n, 3n, 9n)).toBe(ALLOW); // NETLINK_AUDIT allowed with CAP_AUDIT_WRITE
    expect(runBpf(podman.bpf, AUDIT_ARCH.x86, NR_X86.mkdir)).toBe(ALLOW);
    expect(runBpf(podman.bpf, AUDIT_ARCH.x86, NR_X86.personality, [1n])).toBe(ERRNO(38));
    expect(x64(X32_BIT | NR.mkdir)).toBe(ALLOW);
    expect(podman.warnings).toEqual([]);
  });

  test("without CAP_AUDIT_WRITE, NETLINK_AUDIT sockets get EINVAL (both args must match)", () => {
    const p = compileSeccomp(seccompProfile(podmanSeccomp([]) as unknown as SeccompSpec));
    expect(runBpf(p.bpf, AUDIT_ARCH.x86_64, NR.socket, [16n, 3n, 9n])).toBe(ERRNO(22));
    expect(runBpf(p.bpf, AUDIT_ARCH.x86_64, NR.socket, [16n, 3n, 0n])).toBe(ALLOW);
    expect(runBpf(p.bpf, AUDIT_ARCH.x86_64, NR.socket, [2n, 1n, 9n])).toBe(ALLOW);
  });

  test("an architecture left out of the filter is a bad arch: KILL", () => {
    const p = compileSeccomp(seccompProfile({ defaultAction: "SCMP_ACT_ALLOW", flags: [] }));
    expect(runBpf(p.bpf, AUDIT_ARCH.x86_64, NR.mkdir)).toBe(ALLOW);
    expect(runBpf(p.bpf, AUDIT_ARCH.x86, NR_X86.mkdir)).toBe(KILL_THREAD);
  });

  test("masked and ordered comparisons on full 64-bit values", () => {
    const p = compileSeccomp(
      seccompProfile({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [
          { names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 9, args: [{ index: 1, op: "SCMP_CMP_MASKED_EQ", value: 0xf000_0000_0000_0000n, valueTwo: 0x1000_0000_0000_0000n }] },
          { names: ["getpid"], action: "SCMP_ACT_ERRNO", errnoRet: 8, args: [{ index: 0, op: "SCMP_CMP_GE", value: 0x1_0000_0000 }] },
        ],
      }),
    );
    const run = (nr: number, ...args: bigint[]) => runBpf(p.bpf, AUDIT_ARCH.x86_64, nr, args);
    expect(run(NR.mkdir, 0n, 0x1000_0000_0000_0001n)).toBe(ERRNO(9));
    expect(run(NR.mkdir, 0n, 0x2000_0000_0000_0000n)).toBe(ALLOW);
    expect(run(NR.getpid, 0xffff_ffffn)).toBe(ALLOW);
    expect(run(NR.getpid, 0x1_0000_0000n)).toBe(ERRNO(8));
  });

  test("unknown syscall names are warned about and skipped; an arch libseccomp lacks is refused", () => {
    const p = compileSeccomp(seccompProfile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["nope_not_a_syscall", "mkdir"], action: "SCMP_ACT_KILL" }] }));
    expect(p.warnings).toEqual(['linux.seccomp.syscalls[0].names[0]: unknown syscall "nope_not_a_syscall", skipped (as runc does)']);
    expect(runBpf(p.bpf, AUDIT_ARCH.x86_64, NR.mkdir)).toBe(KILL_THREAD);
    expect(() => compileSeccomp(seccompProfile({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_LOONGARCH64"] }))).toThrow(
      "linux.seccomp.architectures[0]: architecture loongarch64 is not supported by this host's libseccomp",
    );
  });
});

describe("the container's filter kept for exec", () => {
  test("storedProgram gives back what storeProgram kept, with state.json's flags and agent", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "runts-seccomp-state-"));
    try {
      const bpf = new Uint8Array([6, 0, 0, 0, 0, 0, 0xff, 0x7f]);
      storeProgram(path.join(dir, "seccomp.bpf"), { bpf, flags: 12 });
      expect(storedProgram(path.join(dir, "seccomp.bpf"), { flags: 12, listener: { path: "/a", metadata: "" } })).toEqual({ bpf, flags: 12, listener: { path: "/a", metadata: "" } });
      expect(() => storeProgram(path.join(dir, "seccomp.bpf"), { bpf, flags: 0 })).toThrow("store seccomp filter");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("runc's -ENOSYS stub", () => {
  const profile = (extra: Partial<SeccompSpec>): SeccompSpec => ({
    defaultAction: "SCMP_ACT_ERRNO",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    syscalls: [{ names: ["mkdir", "getpid", "io_uring_setup"], action: "SCMP_ACT_ALLOW" }],
    ...extra,
  });
  const FUTEX_WAITV = 449;
  const ENOSYS = ERRNO(38);

  test("syscalls above the largest one the profile names get ENOSYS, per arch and x32 mode; the rest the default", () => {
    const p = compileSeccomp(seccompProfile(profile({})));
    const x64 = (nr: number) => runBpf(p.bpf, AUDIT_ARCH.x86_64, nr);
    expect(x64(NR.mkdir)).toBe(ALLOW);
    expect(x64(NR.add_key)).toBe(ERRNO(1));
    expect(x64(FUTEX_WAITV)).toBe(ENOSYS);
    expect(x64(NR.io_uring_setup + 1)).toBe(ENOSYS);
    expect(x64(NR.io_uring_setup)).toBe(ALLOW);
    expect(x64(X32_BIT | NR.mkdir)).toBe(ALLOW);
    expect(x64(X32_BIT | FUTEX_WAITV)).toBe(ENOSYS);
    expect(runBpf(p.bpf, AUDIT_ARCH.x86, NR_X86.mkdir)).toBe(ALLOW);
    expect(runBpf(p.bpf, AUDIT_ARCH.x86, FUTEX_WAITV)).toBe(ENOSYS);
    expect(runBpf(p.bpf, AUDIT_ARCH.x86, 300)).toBe(ERRNO(1));
  });

  test("only the modes the profile lists: without x32, x32 syscalls are the filter's (bad arch)", () => {
    const p = compileSeccomp(seccompProfile(profile({ architectures: ["SCMP_ARCH_X86_64"] })));
    expect(runBpf(p.bpf, AUDIT_ARCH.x86_64, FUTEX_WAITV)).toBe(ENOSYS);
    expect(runBpf(p.bpf, AUDIT_ARCH.x86_64, X32_BIT | FUTEX_WAITV)).toBe(KILL_THREAD);
  });

  test("none for a default that allows, or that already returns ENOSYS, or without architectures", () => {
    for (const extra of [{ defaultAction: "SCMP_ACT_ALLOW" }, { defaultAction: "SCMP_ACT_LOG" }, { defaultErrnoRet: 38 }, { architectures: [] }]) {
      const p = seccompProfile(profile(extra));
      const plain = compileSeccomp({ ...p, enosysStub: false });
      expect({ extra, same: compileSeccomp(p).bpf }).toEqual({ extra, same: plain.bpf });
    }
    expect(runBpf(compileSeccomp(seccompProfile(profile({ defaultErrnoRet: 38 }))).bpf, AUDIT_ARCH.x86_64, NR.add_key)).toBe(ENOSYS);
  });
});

describe("seccompProgram (the cache of compiled filters)", () => {
  test("the second compilation of a profile is read from <root>/.seccomp, warnings included", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "runts-seccomp-cache-"));
    try {
      const s: SeccompSpec = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["nope_x", "mkdir"], action: "SCMP_ACT_KILL" }] };
      const first = await seccompProgram(s, root);
      expect(readdirSync(path.join(root, ".seccomp"))).toHaveLength(1);
      const second = await seccompProgram({ ...s, listenerPath: undefined }, root);
      expect(second).toEqual(first);
      expect(second.warnings).toHaveLength(1);
      // flags are not part of the compiled program
      const other = await seccompProgram({ ...s, flags: [] }, root);
      expect(other.program.bpf).toEqual(first.program.bpf);
      expect(other.program.flags).toBe(0);
      expect(readdirSync(path.join(root, ".seccomp"))).toHaveLength(1);
      // A damaged entry (not whole instructions) is compiled again, and replaced.
      const entry = path.join(root, ".seccomp", readdirSync(path.join(root, ".seccomp"))[0]!);
      writeFileSync(entry, JSON.stringify({ bpf: "AAAA", warnings: [] }));
      expect(await seccompProgram(s, root)).toEqual(first);
      expect(JSON.parse(readFileSync(entry, "utf8")).warnings).toHaveLength(1);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

// ---- where the filter goes in the plan -----------------------------------------------------

const program: SeccompProgram = { bpf: new Uint8Array(8), flags: 4 };
const ctx = (seccomp?: SeccompProgram): CreateContext => planContext({ bundle: "/b", rootfs: "/b/rootfs", seccomp });
const spec = (nnp: boolean): Spec => {
  const s = defaultSpec() as unknown as Spec;
  s.process!.terminal = false;
  s.process!.noNewPrivileges = nnp;
  s.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW" };
  return s;
};
const names = (ops: PlanOp[]) => ops.map((o) => o.op);

describe("the filter's place in the plan (runc's order)", () => {
  test("without noNewPrivileges: before the user switch and the capability drop", () => {
    const order = names(planContainer(spec(false), ctx(program)).ops);
    expect(order.indexOf("SECCOMP")).toBe(order.indexOf("USER") - 1);
    expect(order.indexOf("SECCOMP")).toBeGreaterThan(order.indexOf("PIVOT_ROOT"));
  });

  test("with noNewPrivileges: after no_new_privs and the executable lookup, right before READY", () => {
    const ops = planContainer(spec(true), ctx(program)).ops;
    const order = names(ops);
    expect(order.slice(order.indexOf("NO_NEW_PRIVS"))).toEqual(["NO_NEW_PRIVS", "LOOKUP", "SECCOMP", "READY", "WAIT_START", "EXEC"]);
    expect(ops[order.indexOf("SECCOMP")]!.args).toEqual([program.bpf, 4]);
    expect(() => encodePlan(ops)).not.toThrow();
    expect(Op.SECCOMP).toBe(30);
  });

  test("exec's plan: before USER without noNewPrivileges, right before EXEC with it", () => {
    for (const nnp of [false, true]) {
      const s = spec(nnp);
      const ops = planExec(s, s.process!, { initPid: 1, initStartTime: "1", cgroupDir: "/sys/fs/cgroup/x", rootfs: "/b/rootfs", foreground: false, listenFds: 0, preserveFds: 0, facts: fakeFacts(), seccomp: program }).ops;
      const order = names(ops);
      expect(order.indexOf("SECCOMP")).toBe(nnp ? order.indexOf("EXEC") - 1 : order.indexOf("USER") - 1);
      expect(order.filter((o) => o === "SECCOMP")).toHaveLength(1);
    }
  });

  test("a plan without READY (exec) gets the filter right before EXEC", () => {
    const ops: PlanOp[] = [{ op: "CHDIR", args: ["/"] }, { op: "EXEC", args: [0, 1, "/bin/sh"] }];
    expect(names(placeSeccomp(ops, program, true))).toEqual(["CHDIR", "SECCOMP", "EXEC"]);
  });

  test("a config with linux.seccomp is never planned without its compiled filter", () => {
    expect(() => planContainer(spec(false), ctx())).toThrow("linux.seccomp is set but was not compiled");
  });
});

describe("loadSpec keeps large seccomp argument values exact", () => {
  test("values above 2^53 arrive as bigints; small ones stay numbers", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "runts-seccomp-spec-"));
    try {
      const s = defaultSpec() as any;
      s.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["x"], action: "SCMP_ACT_KILL", args: [{ index: 0, value: "@big", valueTwo: 5, op: "SCMP_CMP_EQ" }] }] };
      writeFileSync(path.join(dir, "config.json"), JSON.stringify(s).replace('"@big"', "18446744073709551614"));
      const arg = loadSpec(dir).linux!.seccomp!.syscalls![0]!.args![0]!;
      expect(arg.value).toBe(18446744073709551614n);
      expect(arg.valueTwo).toBe(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the container process state sent to the agent", () => {
  test("has runc's fields: ociVersion, fds [seccompFd], pid, metadata, state", () => {
    const state = { ociVersion: "1.2.0", id: "c1", status: "creating", pid: 42, bundle: "/b" };
    expect(JSON.parse(processState({ path: "/s", metadata: "meta" }, 42, state))).toEqual({ ociVersion: "1.2.0", fds: ["seccompFd"], pid: 42, metadata: "meta", state });
    expect(JSON.parse(processState({ path: "/s", metadata: "" }, 42, state))).not.toHaveProperty("metadata");
  });
});

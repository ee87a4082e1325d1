// linux.seccomp -> a checked, normalized profile for the compiler (src/seccomp/libseccomp.ts),
// with runc's conversions (libcontainer/seccomp, specconv.SetupSeccomp), and where in the
// plan the compiled filter is loaded. Pure.
import { ConfigError } from "../errors.ts";
import type { PlanOp } from "../helper/protocol.ts";
import { wantsEnosysStub } from "../seccomp/enosys.ts";
import type { SeccompArg, SeccompSpec } from "../spec/types.ts";

/** libseccomp's struct scmp_arg_cmp: (arg `op` datumA) or, for MASKED_EQ, (arg & datumA) == datumB. */
export interface SeccompCondition {
  arg: number;
  op: number;
  datumA: bigint;
  datumB: bigint;
}

/** One syscall name of a syscalls[] entry; each condition set is one seccomp_rule_add_array. */
export interface SeccompRule {
  name: string;
  action: number;
  conditionSets: SeccompCondition[][];
  /** "linux.seccomp.syscalls[i].names[j]", for errors and warnings. */
  field: string;
}

export interface SeccompProfile {
  defaultAction: number;
  /** libseccomp's names ("x86_64", "x32", ...), with the config field each came from. */
  architectures: { name: string; field: string }[];
  rules: SeccompRule[];
  /** libseccomp's binary-tree syscall lookup, which runc turns on above 32 syscall names. */
  optimize: boolean;
  /** seccomp(2) SECCOMP_SET_MODE_FILTER flags, NEW_LISTENER included when a rule notifies. */
  loadFlags: number;
  listener?: { path: string; metadata: string };
  /** runc's -ENOSYS stub (src/seccomp/enosys.ts) goes before the filter. */
  enosysStub: boolean;
  /** Every syscall name of the profile, rules with the default action included (the stub's input, as runc's). */
  names: string[];
}

/** libseccomp's SCMP_ACT_* values; ERRNO and TRACE carry errnoRet in the low 16 bits. */
const ACTION = {
  SCMP_ACT_KILL: 0x0000_0000, // runc: KILL is KILL_THREAD
  SCMP_ACT_KILL_THREAD: 0x0000_0000,
  SCMP_ACT_KILL_PROCESS: 0x8000_0000,
  SCMP_ACT_TRAP: 0x0003_0000,
  SCMP_ACT_ERRNO: 0x0005_0000,
  SCMP_ACT_TRACE: 0x7ff0_0000,
  SCMP_ACT_LOG: 0x7ffc_0000,
  SCMP_ACT_ALLOW: 0x7fff_0000,
  SCMP_ACT_NOTIFY: 0x7fc0_0000,
} as const;

export const SCMP_ACT_NOTIFY = ACTION.SCMP_ACT_NOTIFY;

/** libseccomp's enum scmp_compare. */
const OPERATOR: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** The runtime-spec's architecture names -> libseccomp's. */
const ARCH: Record<string, string> = {
  SCMP_ARCH_X86: "x86",
  SCMP_ARCH_X86_64: "x86_64",
  SCMP_ARCH_X32: "x32",
  SCMP_ARCH_ARM: "arm",
  SCMP_ARCH_AARCH64: "aarch64",
  SCMP_ARCH_LOONGARCH64: "loongarch64",
  SCMP_ARCH_M68K: "m68k",
  SCMP_ARCH_MIPS: "mips",
  SCMP_ARCH_MIPS64: "mips64",
  SCMP_ARCH_MIPS64N32: "mips64n32",
  SCMP_ARCH_MIPSEL: "mipsel",
  SCMP_ARCH_MIPSEL64: "mipsel64",
  SCMP_ARCH_MIPSEL64N32: "mipsel64n32",
  SCMP_ARCH_PPC: "ppc",
  SCMP_ARCH_PPC64: "ppc64",
  SCMP_ARCH_PPC64LE: "ppc64le",
  SCMP_ARCH_S390: "s390",
  SCMP_ARCH_S390X: "s390x",
  SCMP_ARCH_SH: "sh",
  SCMP_ARCH_SHEB: "sheb",
  SCMP_ARCH_PARISC: "parisc",
  SCMP_ARCH_PARISC64: "parisc64",
  SCMP_ARCH_RISCV64: "riscv64",
};

/** seccomp(2) filter flags. */
export const FILTER_FLAG = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  NEW_LISTENER: 8,
  TSYNC_ESRCH: 16,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
} as const;

/** The kernel caps a filter's errno at MAX_ERRNO: a larger errnoRet cannot mean what it says. */
const MAX_ERRNO = 4095;

/**
 * Syscalls runts-init makes to hand the notify fd to runts (the frame, then the fd): a filter
 * that notifies them would wait for an agent that cannot have the fd yet. runc refuses `write`
 * for the same reason.
 */
const HANDOVER_SYSCALLS = ["sendto", "sendmsg"];

const MAX_ARG_INDEX = 5;

function action(name: string, errnoRet: number | undefined, field: string): number {
  const base = ACTION[name as keyof typeof ACTION];
  if (base === undefined) throw new ConfigError(`${field}: unknown action ${JSON.stringify(name)}`);
  const takesErrno = name === "SCMP_ACT_ERRNO" || name === "SCMP_ACT_TRACE";
  const errnoField = field.endsWith("defaultAction") ? field.replace(/defaultAction$/, "defaultErrnoRet") : field.replace(/action$/, "errnoRet");
  if (errnoRet === undefined) return takesErrno ? base | 1 /* EPERM, as runc */ : base;
  if (!takesErrno) throw new ConfigError(`${errnoField}: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return an errno (the action is ${name})`);
  if (!Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > MAX_ERRNO) {
    throw new ConfigError(`${errnoField}: ${errnoRet} is out of range (0 to ${MAX_ERRNO}, the kernel's MAX_ERRNO)`);
  }
  return base | errnoRet;
}

const U64_MAX = (1n << 64n) - 1n;

/** A JSON number as a u64 (exact when load.ts kept an unsafe integer as a bigint). */
function datum(v: number | bigint | undefined, field: string): bigint {
  const b = typeof v === "bigint" ? v : BigInt(Math.trunc(v ?? 0));
  if (b < 0n || b > U64_MAX + 1n) throw new ConfigError(`${field}: ${v} is not a 64-bit unsigned value`);
  // 2^64-1 arrives as 2^64 from a plain JSON.parse.
  return b > U64_MAX ? U64_MAX : b;
}

function condition(a: SeccompArg, field: string): SeccompCondition {
  const op = OPERATOR[a.op];
  if (op === undefined) throw new ConfigError(`${field}.op: unknown operator ${JSON.stringify(a.op)}`);
  if (!Number.isInteger(a.index) || a.index < 0 || a.index > MAX_ARG_INDEX) {
    throw new ConfigError(`${field}.index: ${a.index} is out of range (a syscall has 6 arguments, 0 to ${MAX_ARG_INDEX})`);
  }
  return { arg: a.index, op, datumA: datum(a.value, `${field}.value`), datumB: datum(a.valueTwo, `${field}.valueTwo`) };
}

/** As runc: all conditions in one rule (ANDed), unless two test the same argument: then one rule each (ORed). */
function conditionSets(args: SeccompArg[] | undefined, field: string): SeccompCondition[][] {
  const conds = (args ?? []).map((a, k) => condition(a, `${field}.args[${k}]`));
  if (!conds.length) return [[]];
  const repeated = new Set(conds.map((c) => c.arg)).size < conds.length;
  return repeated ? conds.map((c) => [c]) : [conds];
}

/** Checks and converts linux.seccomp as runc does. */
export function seccompProfile(s: SeccompSpec): SeccompProfile {
  const at = "linux.seccomp";
  const defaultAction = action(s.defaultAction, s.defaultErrnoRet, `${at}.defaultAction`);
  if (defaultAction === ACTION.SCMP_ACT_NOTIFY) throw new ConfigError(`${at}.defaultAction: SCMP_ACT_NOTIFY cannot be the default action`);
  const architectures = (s.architectures ?? []).map((a, i) => {
    const name = ARCH[a];
    if (!name) throw new ConfigError(`${at}.architectures[${i}]: unknown architecture ${JSON.stringify(a)}`);
    return { name, field: `${at}.architectures[${i}]` };
  });
  const rules: SeccompRule[] = [];
  for (const [i, call] of (s.syscalls ?? []).entries()) {
    const field = `${at}.syscalls[${i}]`;
    const act = action(call.action, call.errnoRet, `${field}.action`);
    const sets = conditionSets(call.args, field);
    for (const [j, name] of call.names.entries()) {
      if (!name) throw new ConfigError(`${field}.names[${j}]: an empty string is not a syscall name`);
      if (act === ACTION.SCMP_ACT_NOTIFY && HANDOVER_SYSCALLS.includes(name)) {
        throw new ConfigError(`${field}.names[${j}]: SCMP_ACT_NOTIFY cannot be used for ${name}: runts-init hands the notify fd to runts with it`);
      }
      // As runc: a rule with the default action is redundant (libseccomp refuses it).
      if (act === defaultAction) continue;
      rules.push({ name, action: act, conditionSets: sets, field: `${field}.names[${j}]` });
    }
  }
  const { loadFlags, listener } = seccompLoad(s);
  const names = (s.syscalls ?? []).flatMap((call) => call.names);
  return {
    defaultAction,
    architectures,
    rules,
    optimize: names.length > 32,
    loadFlags,
    listener,
    enosysStub: wantsEnosysStub(s.defaultAction, s.defaultErrnoRet),
    names,
  };
}

/**
 * How the filter is loaded: the flags (SPEC_ALLOW without a flags field, as runc) and the
 * agent a notifying filter's fd goes to. Checked on its own, so that a create whose filter is
 * cached skips converting the rules (~2 ms for podman's profile in a fresh process): the
 * cache holds only profiles whose rules converted and compiled.
 */
export function seccompLoad(s: SeccompSpec): { loadFlags: number; listener?: { path: string; metadata: string } } {
  const at = "linux.seccomp";
  // The default action cannot notify (seccompProfile refuses it), so a rule that does is one that notifies.
  const notifies = (s.syscalls ?? []).some((c) => c.action === "SCMP_ACT_NOTIFY" && c.names.length > 0) && s.defaultAction !== "SCMP_ACT_NOTIFY";
  let loadFlags = 0;
  // As runc: without a flags field, SPEC_ALLOW (speculative store bypass left as it is).
  for (const [i, f] of (s.flags ?? ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"]).entries()) {
    const bit = FILTER_FLAG[f as keyof typeof FILTER_FLAG];
    if (bit === undefined || f === "NEW_LISTENER" || f === "TSYNC_ESRCH") throw new ConfigError(`${at}.flags[${i}]: unknown flag ${JSON.stringify(f)}`);
    if (bit === FILTER_FLAG.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV && !notifies) {
      throw new ConfigError(`${at}.flags[${i}]: ${f} needs a rule with SCMP_ACT_NOTIFY`);
    }
    loadFlags |= bit;
  }
  let listener: { path: string; metadata: string } | undefined;
  if (notifies) {
    if (!s.listenerPath) throw new ConfigError(`${at}.listenerPath: required with SCMP_ACT_NOTIFY (the socket of the seccomp agent)`);
    listener = { path: s.listenerPath, metadata: s.listenerMetadata ?? "" };
    loadFlags |= FILTER_FLAG.NEW_LISTENER;
    // TSYNC and NEW_LISTENER together need TSYNC_ESRCH (seccomp(2)).
    if (loadFlags & FILTER_FLAG.SECCOMP_FILTER_FLAG_TSYNC) loadFlags |= FILTER_FLAG.TSYNC_ESRCH;
  } else if (s.listenerPath !== undefined) {
    throw new ConfigError(`${at}.listenerPath: set, but no rule uses SCMP_ACT_NOTIFY`);
  }
  return { loadFlags, listener };
}

/** A compiled filter as runts-init loads it (OP_SECCOMP), and where its notify fd goes. */
export interface SeccompProgram {
  bpf: Uint8Array;
  flags: number;
  listener?: { path: string; metadata: string };
}

/**
 * Inserts OP_SECCOMP where runc loads the filter: without noNewPrivileges, before the
 * switch to the container's user and the final capability sets (loading a filter then
 * needs CAP_SYS_ADMIN); with it, as late as possible: after the executable is found,
 * before the init reports ready (READY) or, in a plan without READY, before EXEC.
 */
export function placeSeccomp(ops: PlanOp[], program: SeccompProgram, noNewPrivileges: boolean): PlanOp[] {
  const op: PlanOp = { op: "SECCOMP", args: [program.bpf, program.flags], origin: "linux.seccomp" };
  const anchors = noNewPrivileges ? ["READY", "EXEC"] : ["USER"];
  const at = ops.findIndex((o) => anchors.includes(o.op));
  if (at < 0) throw new Error(`placeSeccomp: the plan has no ${anchors.join(" or ")} op`);
  return [...ops.slice(0, at), op, ...ops.slice(at)];
}

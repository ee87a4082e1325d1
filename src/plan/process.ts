import { posix } from "node:path";
import { ConfigError } from "../errors.ts";
import { passwdEntry } from "../passwd.ts";
import { MAX_ARGS, MAX_FRAME, type PlanOp } from "../helper/protocol.ts";
import type { Process } from "../spec/types.ts";
import { capabilityMasks } from "./capabilities.ts";
import { checkId } from "./ids.ts";
import { rlimitNumber } from "./rlimits.ts";

export interface ProcessPlan {
  /** Ops up to the user switch, capabilities and cwd; before the init reports ready. */
  setup: PlanOp[];
  /** Where runts-init looks for args[0], in order (the container's $PATH lookup). */
  lookup: PlanOp;
  exec: PlanOp;
  warnings: string[];
}

/** Candidates for args[0]: itself when it has a slash, else each directory of the container's PATH. */
export function execCandidates(arg0: string, env: string[]): string[] {
  if (arg0.includes("/")) return [arg0];
  const pathVar = env.filter((e) => e.startsWith("PATH=")).pop()?.slice(5);
  if (pathVar === undefined) return [];
  return pathVar.split(":").map((dir) => posix.join(dir || ".", arg0));
}

const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

/** A JSON number as an rlimit; 2^64-1 (RLIM_INFINITY) arrives as 2^64 after JSON.parse. */
export function rlimitValue(v: number): bigint {
  return v >= 2 ** 64 - 1 ? RLIM_INFINITY : BigInt(v);
}

/** The home directory of uid in an /etc/passwd text, as runc sets HOME when the config does not. */
export function homeFromPasswd(passwd: string | undefined, uid: number): string {
  return passwdEntry(passwd, uid)?.home || "/";
}

/** The kernel's limit on one execve string (MAX_ARG_STRLEN, 32 pages), NUL included. */
const MAX_ARG_STRLEN = 32 * 4096;
/** What args and env may take of the plan frame in all (the rest is for every other op). */
const MAX_EXEC_BYTES = MAX_FRAME / 2;

/** Refuses, naming the field and the limit, an args/env the plan or execve cannot carry. */
function checkExecSize(args: string[], env: string[]): void {
  const count = args.length + env.length;
  if (count + 2 > MAX_ARGS) {
    throw new ConfigError(`process.args and process.env: ${count} strings in all, more than runts's limit of ${MAX_ARGS - 2}`);
  }
  let total = 0;
  const encoder = new TextEncoder();
  for (const [field, list] of [["process.args", args], ["process.env", env]] as const) {
    for (const [i, s] of list.entries()) {
      const bytes = encoder.encode(s).length;
      if (bytes + 1 > MAX_ARG_STRLEN) {
        throw new ConfigError(`${field}[${i}]: ${bytes} bytes, more than the kernel's limit of ${MAX_ARG_STRLEN - 1} for one argument or variable`);
      }
      total += bytes + 4;
    }
  }
  if (total > MAX_EXEC_BYTES) {
    throw new ConfigError(`process.args and process.env: ${total} bytes in all, more than runts's limit of ${MAX_EXEC_BYTES}`);
  }
}

/** process.* -> ops, except seccomp and hooks (planned by their own modules). passwd: the image's /etc/passwd. */
export function planProcess(p: Process | undefined, preserveFds: number, lastCap: number, passwd?: string): ProcessPlan {
  if (!p) throw new ConfigError("process: required to create a container");
  if (!p.args?.length) throw new ConfigError("process.args: must name the program to run");
  if (!posix.isAbsolute(p.cwd)) throw new ConfigError(`process.cwd: must be an absolute path (got ${JSON.stringify(p.cwd)})`);
  const env = [...(p.env ?? [])];
  if (!env.some((e) => e.startsWith("HOME="))) env.push(`HOME=${homeFromPasswd(passwd, p.user.uid)}`);
  for (const [i, e] of env.entries()) {
    if (!e.includes("=")) throw new ConfigError(`process.env[${i}]: ${JSON.stringify(e)} is not NAME=VALUE`);
  }
  checkExecSize(p.args, env);
  const setup: PlanOp[] = [];
  for (const [i, r] of (p.rlimits ?? []).entries()) {
    const where = `process.rlimits[${i}]`;
    if (r.soft > r.hard) throw new ConfigError(`${where}: soft limit ${r.soft} is above hard limit ${r.hard}`);
    setup.push({ op: "RLIMIT", args: [rlimitNumber(r.type, `${where}.type`), rlimitValue(r.soft), rlimitValue(r.hard)] });
  }
  const u = p.user;
  const gids = (u.additionalGids ?? []).map((g, i) => checkId(g, `process.user.additionalGids[${i}]`));
  setup.push({ op: "USER", args: [checkId(u.uid, "process.user.uid"), checkId(u.gid ?? 0, "process.user.gid"), ...gids] });
  setup.push({ op: "UMASK", args: [u.umask ?? 0o022] });
  const caps = capabilityMasks(p.capabilities, lastCap);
  setup.push({
    op: "CAPS",
    args: [caps.bounding, caps.effective, caps.permitted, caps.inheritable, caps.ambient, lastCap],
  });
  setup.push({ op: "CHDIR", args: [p.cwd] });
  if (p.noNewPrivileges) setup.push({ op: "NO_NEW_PRIVS", args: [] });
  const warnings = caps.unsupported.map((c) => `capability ${c} is not supported by this kernel; left out`);
  const candidates = execCandidates(p.args[0]!, env);
  if (!candidates.length) {
    throw new ConfigError(`process.args[0]: ${JSON.stringify(p.args[0])} has no slash and process.env sets no PATH`);
  }
  return {
    setup,
    lookup: { op: "LOOKUP", args: [p.args[0]!, ...candidates] },
    exec: { op: "EXEC", args: [preserveFds, p.args.length, ...p.args, ...env] },
    warnings,
  };
}

// `runts exec`: the process to start in a running container (runc's getProcess and
// newInitConfig) and the plan that starts it. Pure: host facts come in through HostFacts.
import { posix } from "node:path";
import { ConfigError } from "../errors.ts";
import type { PlanOp } from "../helper/protocol.ts";
import type { Capabilities, Process, Spec } from "../spec/types.ts";
import type { HostFacts } from "./facts.ts";
import { type ConsoleRequest, planConsole } from "./console.ts";
import { planMemoryPolicy } from "./mempolicy.ts";
import { CLONE_FLAGS } from "./namespaces.ts";
import { planProcess } from "./process.ts";
import { placeSeccomp, type SeccompProgram } from "./seccomp.ts";
import { initialAffinity, planFinalAffinity, planProcessAttributes } from "./process-attrs.ts";

/** What the exec flags ask for when there is no --process file. */
export interface ExecFlags {
  args: string[];
  cwd?: string;
  env: string[];
  /** --user "uid[:gid]" */
  user?: string;
  additionalGids: string[];
  caps: string[];
  noNewPrivs?: boolean;
  tty?: boolean;
}

/** The largest id runts accepts (a uid_t that is not negative as an int32; 2^32-1 is "no id"). */
export const MAX_ID = 2147483647;

function parseId(text: string, where: string): number {
  if (!/^\d+$/.test(text) || Number(text) > MAX_ID) {
    throw new ConfigError(`${where}: ${JSON.stringify(text)} is not a numeric id in 0..${MAX_ID}`);
  }
  return Number(text);
}

/** --cap's sets: never inheritable (CVE-2022-29162), so not ambient either (it needs inheritable), as runc. */
const CAP_SETS = ["bounding", "effective", "permitted"] as const;

/**
 * The process of `exec ID CMD...`: the container's process with the flags applied, as runc
 * does (args replaced, --env appended, --cap added to the bounding, effective and permitted sets, --user and --cwd replace,
 * --additional-gids appended, terminal only with --tty).
 */
export function processFromFlags(container: Process | undefined, f: ExecFlags): Process {
  if (!container) throw new ConfigError("process: the container's config.json has none to exec from");
  const p: Process = structuredClone(container);
  if (!f.args.length) throw new ConfigError("exec: no command given (exec [flags] ID COMMAND [ARGS...] or exec --process FILE ID)");
  p.args = f.args;
  delete p.commandLine;
  if (f.cwd !== undefined) p.cwd = f.cwd;
  p.env = [...(p.env ?? []), ...f.env];
  p.terminal = f.tty ?? false;
  if (f.noNewPrivs !== undefined) p.noNewPrivileges = f.noNewPrivs;
  p.user = { ...p.user };
  if (f.user !== undefined) {
    const [uid, gid, ...rest] = f.user.split(":");
    if (rest.length) throw new ConfigError(`--user: ${JSON.stringify(f.user)} is not uid[:gid]`);
    p.user.uid = parseId(uid!, "--user");
    if (gid !== undefined) p.user.gid = parseId(gid, "--user");
  }
  if (f.additionalGids.length) {
    p.user.additionalGids = [...(p.user.additionalGids ?? []), ...f.additionalGids.map((g) => parseId(g, "--additional-gids"))];
  }
  if (f.caps.length) {
    const caps: Capabilities = { ...p.capabilities };
    for (const set of CAP_SETS) caps[set] = [...(caps[set] ?? []), ...f.caps];
    p.capabilities = caps;
  }
  if (!posix.isAbsolute(p.cwd)) throw new ConfigError(`--cwd: must be an absolute path (got ${JSON.stringify(p.cwd)})`);
  return p;
}

/**
 * The process of `exec --process FILE ID` (validated against the process schema): what it
 * leaves out comes from the container's process, as runc's newInitConfig takes it from the
 * container's config (capabilities, rlimits, scheduler, ioPriority, execCPUAffinity); the
 * umask too, which runc leaves at its own. noNewPrivileges is the file's alone (absent:
 * false), as in runc.
 */
export function processFromFile(container: Process | undefined, p: Process): Process {
  const out: Process = { ...p, user: { ...p.user } };
  if (!container) return out;
  out.capabilities ??= container.capabilities;
  if (!out.rlimits?.length && container.rlimits) out.rlimits = container.rlimits;
  out.scheduler ??= container.scheduler;
  out.ioPriority ??= container.ioPriority;
  out.execCPUAffinity ??= container.execCPUAffinity;
  if (out.user.umask === undefined && container.user.umask !== undefined) out.user.umask = container.user.umask;
  return out;
}

/** --cgroup: a sub-cgroup of the container's (cgroup v2: a path, no controller list). */
export function execCgroupDir(containerCgroup: string, sub: string[]): string {
  if (!sub.length) return containerCgroup;
  if (sub.length > 1) throw new ConfigError("--cgroup: given more than once; on cgroup v2 there is one sub-cgroup to join");
  const s = sub[0]!;
  if (s.includes(":")) throw new ConfigError(`--cgroup: ${JSON.stringify(s)}: controller:path is for cgroup v1; runts uses cgroup v2 only (give the path)`);
  const rel = posix.normalize(`/${s}`);
  if (s.split("/").includes("..") || rel === "/") throw new ConfigError(`--cgroup: ${JSON.stringify(s)} is not a sub-cgroup of the container's`);
  return containerCgroup + rel;
}

export interface ExecContext {
  /** The container's init, as state.json recorded it. */
  initPid: number;
  initStartTime: string;
  /** The cgroup the process is born in. */
  cgroupDir: string;
  rootfs: string;
  foreground: boolean;
  /** Socket activation fds (3..3+listenFds-1) passed on with LISTEN_FDS/LISTEN_PID. */
  listenFds: number;
  /** --preserve-fds: the caller's fds after the listen fds. */
  preserveFds: number;
  pidfdSocket?: string;
  /** Where a terminal's pty master goes (--tty, --console-socket). */
  console?: Pick<ConsoleRequest, "socket" | "stdinIsTty">;
  facts: HostFacts;
  /** The container's seccomp filter, as create loaded it (src/seccomp/program.ts storedProgram). */
  seccomp?: SeccompProgram;
}

export interface ExecPlan {
  ops: PlanOp[];
  warnings: string[];
  /** runts-init's parent relays runts's stdio through the pty (exec -t in the foreground). */
  relay: "raw" | "plain" | undefined;
}

/** The CLONE_NEW* flags of every namespace the container has (new or joined): exec joins them all. */
export function containerNamespaceFlags(spec: Spec): number {
  let flags = 0;
  for (const ns of spec.linux?.namespaces ?? []) flags |= CLONE_FLAGS[ns.type] ?? 0;
  return flags;
}

/**
 * JOIN (the init's namespaces through a pidfd, born in the cgroup) → PIDFD_SOCKET →
 * personality, scheduler, ioprio → rlimits, user, umask, caps, cwd, NNP → LOOKUP →
 * AFFINITY (final) → EXEC, with the container's seccomp filter where runc loads it in an
 * exec'd process (placeSeccomp). No mounts: the container's root is the init's.
 */
export function planExec(container: Spec, p: Process, ctx: ExecContext): ExecPlan {
  // LSM labels are not applied yet: refused, not dropped (as create refuses them).
  if (p.apparmorProfile) throw new ConfigError("process.apparmorProfile: AppArmor profiles are not supported by runts yet");
  if (p.selinuxLabel) throw new ConfigError("process.selinuxLabel: SELinux labels are not supported by runts yet");
  const proc: Process = { ...p, env: [...(p.env ?? [])] };
  if (ctx.listenFds > 0) proc.env!.push(`LISTEN_FDS=${ctx.listenFds}`, "LISTEN_PID=");
  const spec: Spec = { ...container, process: proc };
  const passwd = proc.env!.some((e) => e.startsWith("HOME=")) ? undefined : ctx.facts.readInRoot(ctx.rootfs, "/etc/passwd");
  const planned = planProcess(proc, ctx.listenFds + ctx.preserveFds, ctx.facts.lastCap(), passwd);
  const ops: PlanOp[] = [
    {
      op: "JOIN",
      args: [containerNamespaceFlags(container), ctx.cgroupDir, ctx.initPid, ctx.initStartTime, ctx.foreground ? 1 : 0, initialAffinity(spec)],
    },
  ];
  if (ctx.pidfdSocket !== undefined) ops.push({ op: "PIDFD_SOCKET", args: [ctx.pidfdSocket, "setns"] });
  // Before the user switch, as runc's setns init: no /dev/console for an exec.
  const consolePlan = planConsole(proc, { stdinIsTty: false, ...ctx.console, detach: !ctx.foreground, preserveFds: ctx.listenFds + ctx.preserveFds, mountConsole: false });
  if (consolePlan) ops.push(consolePlan.op);
  ops.push(...planProcessAttributes(spec), ...planMemoryPolicy(container), ...planned.setup, planned.lookup, ...planFinalAffinity(spec));
  if (ctx.listenFds > 0) ops.push({ op: "LISTEN_PID", args: [] });
  ops.push(planned.exec);
  return {
    ops: ctx.seccomp ? placeSeccomp(ops, ctx.seccomp, proc.noNewPrivileges === true) : ops,
    warnings: planned.warnings,
    relay: consolePlan?.relay,
  };
}

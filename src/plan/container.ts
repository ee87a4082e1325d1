// The one place that turns a validated config.json into the plan runts-init executes
// (runc's specconv). Pure: host facts come in through HostFacts.
import { posix } from "node:path";
import { ConfigError } from "../errors.ts";
import type { PlanOp } from "../helper/protocol.ts";
import type { Hook, Spec } from "../spec/types.ts";
import { type ConsoleRequest, planConsole } from "./console.ts";
import { planDevices } from "./devices.ts";
import type { HostFacts } from "./facts.ts";
import { planMemoryPolicy } from "./mempolicy.ts";
import { checkIdMappings } from "./ids.ts";
import { containerPath, planMounts, rootPropagation } from "./mounts.ts";
import { CLONE_FLAGS, planNamespaces } from "./namespaces.ts";
import { planProcess } from "./process.ts";
import { placeSeccomp, type SeccompProgram } from "./seccomp.ts";
import { initialAffinity, planFinalAffinity, planProcessAttributes } from "./process-attrs.ts";
import { type IdMaps, planIdMaps } from "./idmap.ts";
import { planSysctl } from "./sysctl.ts";
import { planTimeOffsets } from "./time.ts";
import { planUserNamespace } from "./userns.ts";
import { refuseUnsupported } from "./unsupported.ts";

export interface CreateContext {
  bundle: string;
  rootfs: string;
  /** <root>/<id>: runts-init reopens exec.fifo through it after pivot_root. */
  stateDir: string;
  /** The container's cgroup v2 directory on the host; "" for none (rootless without delegation). */
  cgroupDir: string;
  /** Bound at a cgroup mount without a cgroup namespace; default cgroupDir. */
  cgroupMountSource?: string;
  /** --rootless: the container needs a new user namespace. */
  rootless?: boolean;
  foreground: boolean;
  /** Foreground run: the helper also reaps the processes orphaned to it (PR_SET_CHILD_SUBREAPER); --no-subreaper turns it off. */
  subreaper?: boolean;
  noPivot: boolean;
  preserveFds: number;
  /** Where a terminal's pty master goes (process.terminal). */
  console?: Pick<ConsoleRequest, "socket" | "stdinIsTty">;
  /** --pidfd-socket: the helper sends the init's pidfd there. */
  pidfdSocket?: string;
  facts: HostFacts;
  /** linux.seccomp compiled (src/seccomp/program.ts); required when the config has it. */
  seccomp?: SeccompProgram;
}

export interface ContainerPlan {
  ops: PlanOp[];
  warnings: string[];
  /** runts-init's parent relays runts's stdio through the pty (foreground run with a terminal). */
  relay: "raw" | "plain" | undefined;
  /** Set by runts on /proc/PID/oom_score_adj from the host, as runc does. */
  oomScoreAdj?: number;
  /** The new user namespace's maps, which runts writes while the init waits after MSG_PID. */
  idMaps?: IdMaps;
}

/**
 * The sync point at which runts runs the prestart and createRuntime hooks; it answers
 * with the state JSON for createContainer hooks ("creating") and startContainer hooks
 * ("created").
 */
export const SYNC_CREATE_RUNTIME = "createRuntime";

/** OP_CLONE's foreground field: bits. */
export const FOREGROUND = { wait: 1, subreaper: 2 } as const;

/** Which of the states runts sends at SYNC_CREATE_RUNTIME a hook gets on stdin. */
const HOOK_STATE = { createContainer: 0, startContainer: 1 } as const;

function hookOps(kind: keyof typeof HOOK_STATE, hooks: Hook[] | undefined): PlanOp[] {
  return (hooks ?? []).map((h, i) => ({
    op: "HOOK" as const,
    args: [
      `${kind} hook #${i}`,
      HOOK_STATE[kind],
      h.path,
      h.timeout ?? 0,
      (h.args ?? [h.path]).length,
      ...(h.args ?? [h.path]),
      ...(h.env ?? []),
    ],
  }));
}

/** The rootfs of a bundle, as an absolute path. */
export function rootfsPath(spec: Spec, bundle: string): string {
  if (!spec.root?.path) throw new ConfigError("root.path: required");
  return posix.resolve(bundle, spec.root.path);
}

export function planContainer(spec: Spec, ctx: CreateContext): ContainerPlan {
  refuseUnsupported(spec, ctx.facts);
  const linux = spec.linux ?? {};
  const hasMountNs = (linux.namespaces ?? []).some((n) => n.type === "mount");
  if (!hasMountNs && (linux.maskedPaths?.length || linux.readonlyPaths?.length)) {
    // runc's check, and its words.
    throw new ConfigError("linux.namespaces: unable to restrict sys entries (linux.maskedPaths, linux.readonlyPaths) without a private MNT namespace");
  }
  checkIdMappings(linux.uidMappings, "linux.uidMappings");
  checkIdMappings(linux.gidMappings, "linux.gidMappings");
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    checkIdMappings(m.uidMappings, `mounts[${i}].uidMappings`);
    checkIdMappings(m.gidMappings, `mounts[${i}].gidMappings`);
  }
  const ns = planNamespaces(linux.namespaces);
  const passwd = spec.process?.env?.some((e) => e.startsWith("HOME=")) ? undefined : ctx.facts.readInRoot(ctx.rootfs, "/etc/passwd");
  const proc = planProcess(spec.process, ctx.preserveFds, ctx.facts.lastCap(), passwd);
  const propagation = rootPropagation(linux.rootfsPropagation);
  const hooks = spec.hooks ?? {};
  const consolePlan = planConsole(spec.process, { stdinIsTty: false, ...ctx.console, detach: !ctx.foreground, preserveFds: ctx.preserveFds, mountConsole: true });
  const idMaps = planUserNamespace(spec, ns, ctx.facts);
  if (ctx.rootless && !ns.has("user")) {
    throw new ConfigError('linux.namespaces: a rootless container needs a new user namespace ({"type": "user"} with linux.uidMappings and gidMappings; see runts spec --rootless) or one of the caller\'s joined by path');
  }
  const linuxMaps = idMaps ?? (linux.uidMappings && linux.gidMappings ? planIdMaps(linux.uidMappings, linux.gidMappings, "linux") : undefined);
  const mounts = planMounts(spec.mounts, {
    bundle: ctx.bundle,
    facts: ctx.facts,
    hasNamespace: (t) => ns.has(t),
    cgroupDir: ctx.cgroupMountSource ?? ctx.cgroupDir,
    userMaps: linuxMaps,
  });
  const timeOffsets = planTimeOffsets(linux, ns);
  if (ctx.rootless) {
    // Both are set up by runts-init on the host, with privileges a rootless caller lacks.
    const first = mounts.trees[0] ?? timeOffsets;
    if (first) throw new ConfigError(`${first.origin}: ${first === timeOffsets ? "time namespace offsets" : "idmapped mounts"} need runts to run as root (not rootless)`);
  }
  const ops: PlanOp[] = [
    ...(timeOffsets ? [timeOffsets] : []),
    ...mounts.trees,
    {
      op: "CLONE",
      args: [
        // With offsets the parent has unshared the time namespace the init is cloned into.
        timeOffsets ? ns.cloneFlags & ~CLONE_FLAGS.time : ns.cloneFlags,
        ctx.cgroupDir,
        ctx.stateDir,
        ctx.rootfs,
        (ctx.foreground ? FOREGROUND.wait : 0) | (ctx.foreground && ctx.subreaper ? FOREGROUND.subreaper : 0),
        initialAffinity(spec),
        ...ns.join.flatMap((j) => [j.flag, j.path]),
      ],
    },
    ...(ctx.pidfdSocket !== undefined ? [{ op: "PIDFD_SOCKET" as const, args: [ctx.pidfdSocket, "standard"] }] : []),
    // A rootless runts-init cannot clone the rootfs on the host; the init can in its new mount namespace.
    { op: "ROOTFS", args: [propagation.initial, ctx.rootless && ns.cloneFlags & CLONE_FLAGS.mount ? 1 : 0] },
    ...mounts.ops,
    ...planDevices(linux.devices, spec.mounts, ns.has("user")),
    { op: "MKDIR", args: [containerPath(spec.process!.cwd), 0o755] },
  ];
  const needsSync = ["prestart", "createRuntime", "createContainer", "startContainer"].some(
    (k) => (hooks[k as keyof typeof hooks]?.length ?? 0) > 0,
  );
  if (needsSync) ops.push({ op: "SYNC", args: [SYNC_CREATE_RUNTIME] });
  ops.push(...hookOps("createContainer", hooks.createContainer));
  ops.push({ op: ctx.noPivot ? "MOVE_ROOT" : "PIVOT_ROOT", args: [] });
  if (propagation.final) {
    ops.push({ op: "SETATTR", args: ["/", 0, 0, propagation.final.flag, propagation.final.recursive ? 1 : 0] });
  }
  // After the mounts and before /dev and the root turn read-only, as runc's setupConsole.
  if (consolePlan) ops.push(consolePlan.op);
  if (spec.hostname !== undefined) {
    if (!ns.has("uts")) throw new ConfigError("hostname: needs a new uts namespace");
    ops.push({ op: "HOSTNAME", args: [spec.hostname] });
  }
  if (spec.domainname !== undefined) {
    if (!ns.has("uts")) throw new ConfigError("domainname: needs a new uts namespace");
    ops.push({ op: "DOMAINNAME", args: [spec.domainname] });
  }
  ops.push(...planSysctl(linux.sysctl, (t) => ns.has(t) && !ns.join.some((j) => j.type === t)));
  for (const p of linux.readonlyPaths ?? []) ops.push({ op: "READONLY", args: [containerPath(p)] });
  for (const p of linux.maskedPaths ?? []) ops.push({ op: "MASK", args: [containerPath(p)] });
  ops.push(...mounts.final);
  if (spec.root?.readonly) ops.push({ op: "REMOUNT_ROOT_RO", args: [] });
  if (ns.has("network") && !ns.join.some((j) => j.type === "network")) ops.push({ op: "LOOPBACK_UP", args: [] });
  ops.push(...planProcessAttributes(spec), ...planMemoryPolicy(spec));
  ops.push(...proc.setup, proc.lookup, { op: "READY", args: [] }, { op: "WAIT_START", args: [] });
  ops.push(...hookOps("startContainer", hooks.startContainer));
  ops.push(...planFinalAffinity(spec), proc.exec);
  if (linux.seccomp && !ctx.seccomp) throw new Error("planContainer: linux.seccomp is set but was not compiled");
  return {
    ops: ctx.seccomp ? placeSeccomp(ops, ctx.seccomp, spec.process?.noNewPrivileges === true) : ops,
    warnings: proc.warnings,
    relay: consolePlan?.relay,
    oomScoreAdj: spec.process?.oomScoreAdj,
    idMaps,
  };
}

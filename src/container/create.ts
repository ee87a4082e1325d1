import { posix } from "node:path";
import { type CgroupPaths, cgroupPathsFor, cgroupsOf } from "../cgroups/driver.ts";
import { applyDevices } from "../cgroups/apply-devices.ts";
import { applyV1, applyV2, assertRealtimeBudget } from "../cgroups/apply.ts";
import { deviceRules, type SpecDeviceRule } from "../cgroups/device-rules.ts";
import { cgroupLayout, v1Hierarchies } from "../cgroups/layout.ts";
import { containerCgroupPath } from "../cgroups/path.ts";
import { planResources, type Resources } from "../cgroups/resources.ts";
import { rootlessCgroupDir } from "../cgroups/rootless.ts";
import { ConfigError, RuntsError, wrapSys } from "../errors.ts";
import type { PlanOp } from "../helper/protocol.ts";
import { checkPreservedFds, launch, type Launched } from "../helper/launch.ts";
import { hookState, runHooks } from "../hooks.ts";
import { chmod, exists, isatty, mkfifo, O, readText, readTextIfAny, realpath, writeText } from "../libc.ts";
import { hostFacts } from "../plan/facts.ts";
import { planContainer, rootfsPath, SYNC_CREATE_RUNTIME } from "../plan/container.ts";
import { passwdEntry } from "../passwd.ts";
import { pathOwner } from "../rootless.ts";
import { loadSpec } from "../spec/load.ts";
import { validateId } from "../state/container-id.ts";
import { writePidFile } from "../state/pid-file.ts";
import { StateDir, type StoredState } from "../state/state-dir.ts";
import { processStartTime } from "../state/status.ts";
import { type ConsoleSide, consoleSide } from "./console.ts";
import type { Context } from "./context.ts";
import { destroy } from "./destroy.ts";
import { networkRequest, type NetworkFlags } from "../network/request.ts";
import { writeIdMaps } from "./id-maps.ts";

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  noPivot: boolean;
  preserveFds: number;
  /** --console-socket: where the pty master of a detached process with a terminal goes. */
  consoleSocket?: string;
  pidfdSocket?: string;
  /** run --no-subreaper */
  noSubreaper?: boolean;
  /** `run` without --detach: the helper stays and exits with the container's status. */
  foreground: boolean;
  /** --network, --publish, --ip (they replace the run.runts.* annotations). */
  network: NetworkFlags;
}

/** Creates the container: on success its init waits on exec.fifo; on failure nothing is left. */
export interface Created {
  state: StoredState;
  launched: Launched;
  /** runts-init relays runts's stdio through the container's pty (foreground, process.terminal). */
  relay: boolean;
  /** Puts runts's terminal back as it was (the relay makes it raw); a no-op without one. */
  restoreTerminal(): void;
}

export async function create(ctx: Context, o: CreateOptions): Promise<Created> {
  checkPreservedFds(o.preserveFds);
  const id = validateId(o.id);
  const bundle = posix.resolve(o.bundle);
  if (!exists(bundle)) throw new RuntsError("create: bundle", bundle, 2);
  const dir = new StateDir(ctx.root, id);
  dir.create();
  let state: StoredState | undefined;
  let terminal: ConsoleSide | undefined;
  try {
    const spec = loadSpec(bundle);
    ctx.log.debug(`create ${id}: loaded ${bundle}/config.json (ociVersion ${spec.ociVersion})`);
    const rootfs = checkedRootfs(spec, bundle);
    const layout = cgroupLayout(readText("/proc/self/mountinfo"));
    const cgroupRel = containerCgroupPath(spec.linux?.cgroupsPath, id);
    // Rootless: only a cgroup v2 subtree delegated to the user (v1 hierarchies never are).
    const cgroupPaths = ctx.rootless ? rootlessCgroupPaths(layout.unified, cgroupRel, spec.linux?.resources) : cgroupPathsFor(layout, cgroupRel);
    const cgroups = cgroupsOf(cgroupPaths);
    const devices = deviceRules(spec.linux?.resources?.devices as SpecDeviceRule[] | undefined);
    const resources = planResources(spec.linux?.resources as Resources | undefined);
    ctx.log.debug(`create ${id}: cgroup ${cgroupPaths.cgroupDir || "none (rootless, not delegated)"}`);
    if (cgroupPaths.cgroupV1) ctx.log.debug(`create ${id}: v1 cgroups ${cgroups.dirs().join(" ")}`);
    const seccompModule = spec.linux?.seccomp ? await import("../seccomp/program.ts") : undefined;
    const seccomp = seccompModule && (await seccompModule.seccompProgram(spec.linux!.seccomp!, ctx.root));
    for (const w of seccomp?.warnings ?? []) ctx.log.warn(w);
    // koffi (SCM_RIGHTS) only for a container with a seccomp agent.
    const agent = seccomp?.program.listener ? await import("../seccomp/listener.ts") : undefined;
    const netReq = networkRequest(spec.annotations, o.network, spec.linux?.namespaces);
    // Loaded only for a container that asks for runts's networking.
    const net = netReq && (await import("../network/attach.ts"));
    const initial: StoredState = {
      ociVersion: spec.ociVersion,
      id,
      pid: 0,
      pidStartTime: "",
      bundle,
      rootfs,
      created: new Date().toISOString(),
      owner: ownerName(),
      annotations: spec.annotations,
      cgroupDir: "",
      resources: spec.linux?.resources,
      hooks: spec.hooks,
      ...(seccomp && { seccomp: { flags: seccomp.program.flags, listener: seccomp.program.listener } }),
      creating: true,
    };
    // Before the plan, which mounts the generated /etc files. The state names the network
    // before anything is reserved (and no cgroup yet), so every failure, and delete --force
    // of a killed create, releases it.
    let reserved: import("../network/attach.ts").Reserved | undefined;
    let etcOps: PlanOp[] = [];
    if (net && netReq) {
      state = { ...initial, network: netReq.bridge };
      dir.write(state);
      reserved = net.reserve(ctx.root, id, netReq, ctx.log);
      state.annotations = { ...spec.annotations, ...net.networkAnnotations(reserved) };
      const destinations = (spec.mounts ?? []).map((m) => posix.normalize(m.destination));
      etcOps = net.etcFileOps(dir.dir, spec.hostname ?? id, reserved.allocation.ip, destinations, ctx.log);
    }
    const plan = planContainer(spec, {
      bundle,
      rootfs,
      stateDir: dir.dir,
      cgroupDir: cgroupPaths.cgroupDir,
      cgroupJoin: cgroups.joinFiles(),
      cgroupV1Mounts: cgroupPaths.cgroupV1 ? v1Hierarchies(layout, cgroupRel) : undefined,
      // Without a cgroup of its own a rootless container sees the caller's at /sys/fs/cgroup.
      cgroupMountSource: cgroupPaths.cgroupDir || (layout.unified ? ownCgroupDir(layout.unified) : ""),
      rootless: ctx.rootless,
      foreground: o.foreground,
      subreaper: !o.noSubreaper,
      pidfdSocket: o.pidfdSocket,
      noPivot: o.noPivot,
      preserveFds: o.preserveFds,
      console: { socket: o.consoleSocket, stdinIsTty: isatty(0) },
      facts: hostFacts,
      seccomp: seccomp?.program,
      ...(reserved && { network: { etcOps } }),
    });
    for (const w of plan.warnings) ctx.log.warn(w);
    // Before state.json names the cgroup: the cleanup of a failed create kills what is in it.
    cgroups.assertFree();
    state = { ...initial, ...state, ...cgroupPaths };
    if (seccomp) seccompModule!.storeProgram(dir.seccompPath, seccomp.program);
    dir.write(state);
    cgroups.create();
    if (cgroupPaths.cgroupV1) applyV1(cgroupPaths, resources);
    else if (cgroupPaths.cgroupDir) applyV2(layout.unified!, cgroupPaths.cgroupDir, resources);
    assertRealtimeBudget(cgroupPaths, spec.process?.scheduler?.policy);
    // Rootless: no device program (loading one needs privileges); the user namespace keeps
    // device nodes from being made or opened, and only deny rules are accepted there.
    if (!ctx.rootless) applyDevices(cgroupPaths, devices);
    mkfifo(dir.fifoPath, 0o622);
    // A non-root container user opens it for writing; mkfifo applied the umask.
    wrapSys("chmod exec.fifo", dir.fifoPath, () => chmod(dir.fifoPath, 0o622));
    const s = state;
    terminal = await consoleSide(plan.relay, o.consoleSocket, plan.ops.some((op) => op.op === "CONSOLE"));
    const launched = await launch(plan.ops, {
      preserveFds: o.preserveFds,
      consoleSocket: terminal.fd,
      log: ctx.log,
      newUserNamespace: plan.idMaps !== undefined,
      onPid(pid) {
        ctx.log.debug(`create ${id}: container init pid ${pid}`);
        s.pid = pid;
        s.pidStartTime = processStartTime(pid) ?? "";
        dir.write(s);
        if (plan.idMaps) writeIdMaps(pid, plan.idMaps, { euid: process.geteuid?.() ?? 0, egid: process.getegid?.() ?? 0 });
        if (plan.oomScoreAdj !== undefined) {
          const file = `/proc/${pid}/oom_score_adj`;
          wrapSys("set oom_score_adj", file, () => writeText(file, String(plan.oomScoreAdj), O.WRONLY));
        }
      },
      onSeccompFd(fd) {
        agent!.sendToAgent(seccomp!.program.listener!, fd, s.pid, hookState(s, "creating"));
      },
      onSync(name) {
        if (name !== SYNC_CREATE_RUNTIME) throw new RuntsError("sync", name, 0, "unknown sync point");
        const hs = hookState(s, "creating");
        runHooks("prestart", spec.hooks?.prestart, hs);
        runHooks("createRuntime", spec.hooks?.createRuntime, hs);
        return [JSON.stringify(hookState(s, "creating")), JSON.stringify(hookState(s, "created"))];
      },
      onNetns(sock) {
        if (!net || !reserved) throw new RuntsError("network setup", "", 0, "runts-init asked for it, but the plan has none");
        net.configure(sock, reserved);
        ctx.log.debug(`create ${id}: eth0 ${reserved.allocation.ip} configured`);
      },
    });
    delete state.creating;
    dir.write(state);
    ctx.log.debug(`create ${id}: created, waiting on exec.fifo`);
    if (o.pidFile) writePidFile(o.pidFile, state.pid);
    dir.unlock();
    return { state, launched, relay: plan.relay !== undefined, restoreTerminal: terminal.restoreTerminal };
  } catch (err) {
    if (state) await destroy(state, ctx.root);
    dir.remove();
    terminal?.restoreTerminal();
    throw err;
  } finally {
    terminal?.close();
  }
}

/** A rootless container's cgroups: the delegated v2 one or none (rootlessCgroupDir decides). */
function rootlessCgroupPaths(v2Root: string | undefined, rel: string, resources: Record<string, unknown> | undefined): CgroupPaths {
  const euid = process.geteuid?.() ?? 0;
  if (!v2Root) return { cgroupDir: rootlessCgroupDir("", "", resources, euid, () => undefined) };
  return { cgroupDir: rootlessCgroupDir(`${v2Root}/${rel}`, v2Root, resources, euid, pathOwner) };
}

/** The cgroup v2 directory runts itself is in ("0::/path" in /proc/self/cgroup). */
function ownCgroupDir(v2Root: string): string {
  const line = readTextIfAny("/proc/self/cgroup")?.split("\n").find((l) => l.startsWith("0::"));
  return `${v2Root}${line ? line.slice(3).replace(/\/$/, "") : ""}`;
}

/**
 * The rootfs directory, refused when root.path is a symlink or goes through one (as runc does):
 * a path that changes under runts could make it set up a container in another directory. The
 * bundle directory itself is taken as it resolves (runc works from its real path too).
 */
function checkedRootfs(spec: Parameters<typeof rootfsPath>[0], bundle: string): string {
  const given = rootfsPath(spec, bundle);
  if (hostFacts.kind(given) !== "dir") throw new ConfigError(`root.path: ${JSON.stringify(given)} is not a directory`);
  const expected = posix.isAbsolute(spec.root!.path) ? given : posix.resolve(realpath(bundle), spec.root!.path);
  const real = wrapSys("root.path", given, () => realpath(given));
  if (real !== expected) throw new ConfigError(`root.path: ${JSON.stringify(given)} is a symlink or goes through one (to ${JSON.stringify(real)}); give the real path`);
  return given;
}

/** The name of the user running runts, as runc reports it in `state` and `list`. */
function ownerName(): string {
  const uid = process.getuid?.() ?? 0;
  return passwdEntry(readTextIfAny("/etc/passwd"), uid)?.name ?? `#${uid}`;
}

import { posix } from "node:path";
import { rootlessCgroupDir } from "../cgroups/rootless.ts";
import { assertCgroupFree, cgroup2Root, cgroupDirFor, createCgroup } from "../cgroups/v2.ts";
import { ConfigError, RuntsError, wrapSys } from "../errors.ts";
import { checkPreservedFds, launch, type Launched } from "../helper/launch.ts";
import { hookState, runHooks } from "../hooks.ts";
import { chmod, exists, O, readTextIfAny, realpath, writeText } from "../libc.ts";
import { hostFacts } from "../plan/facts.ts";
import { planContainer, rootfsPath, SYNC_CREATE_RUNTIME } from "../plan/container.ts";
import { passwdEntry } from "../passwd.ts";
import { pathOwner } from "../rootless.ts";
import { sendToAgent } from "../seccomp/listener.ts";
import { loadSpec } from "../spec/load.ts";
import { validateId } from "../state/container-id.ts";
import { writePidFile } from "../state/pid-file.ts";
import { StateDir, type StoredState } from "../state/state-dir.ts";
import { processStartTime } from "../state/status.ts";
import * as sys from "../sys.ts";
import { type ConsoleSide, consoleSide } from "./console.ts";
import type { Context } from "./context.ts";
import { destroy } from "./destroy.ts";
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
    const v2Root = cgroup2Root();
    let cgroupDir = cgroupDirFor(v2Root, spec.linux?.cgroupsPath, id);
    if (ctx.rootless) cgroupDir = rootlessCgroupDir(cgroupDir, v2Root, spec.linux?.resources, process.geteuid?.() ?? 0, pathOwner);
    ctx.log.debug(`create ${id}: cgroup ${cgroupDir || "none (rootless, not delegated)"}`);
    const seccompModule = spec.linux?.seccomp ? await import("../seccomp/program.ts") : undefined;
    const seccomp = seccompModule && (await seccompModule.seccompProgram(spec.linux!.seccomp!, ctx.root));
    for (const w of seccomp?.warnings ?? []) ctx.log.warn(w);
    const plan = planContainer(spec, {
      bundle,
      rootfs,
      stateDir: dir.dir,
      cgroupDir,
      // Without a cgroup of its own a rootless container sees the caller's at /sys/fs/cgroup.
      cgroupMountSource: cgroupDir || ownCgroupDir(v2Root),
      rootless: ctx.rootless,
      foreground: o.foreground,
      subreaper: !o.noSubreaper,
      pidfdSocket: o.pidfdSocket,
      noPivot: o.noPivot,
      preserveFds: o.preserveFds,
      console: { socket: o.consoleSocket, stdinIsTty: sys.isatty(0) },
      facts: hostFacts,
      seccomp: seccomp?.program,
    });
    for (const w of plan.warnings) ctx.log.warn(w);
    // Before state.json names the cgroup: the cleanup of a failed create kills what is in it.
    if (cgroupDir) assertCgroupFree(cgroupDir);
    state = {
      ociVersion: spec.ociVersion,
      id,
      pid: 0,
      pidStartTime: "",
      bundle,
      rootfs,
      created: new Date().toISOString(),
      owner: ownerName(),
      annotations: spec.annotations,
      cgroupDir,
      hooks: spec.hooks,
      ...(seccomp && { seccomp: { flags: seccomp.program.flags, listener: seccomp.program.listener } }),
      creating: true,
    };
    if (seccomp) seccompModule!.storeProgram(dir.seccompPath, seccomp.program);
    dir.write(state);
    if (cgroupDir) createCgroup(cgroupDir);
    sys.mkfifo(dir.fifoPath, 0o622);
    // A non-root container user opens it for writing; mkfifo applied the umask.
    wrapSys("chmod exec.fifo", dir.fifoPath, () => chmod(dir.fifoPath, 0o622));
    const s = state;
    terminal = consoleSide(plan.relay, o.consoleSocket, plan.ops.some((op) => op.op === "CONSOLE"));
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
        sendToAgent(seccomp!.program.listener!, fd, s.pid, hookState(s, "creating"));
      },
      onSync(name) {
        if (name !== SYNC_CREATE_RUNTIME) throw new RuntsError("sync", name, 0, "unknown sync point");
        const hs = hookState(s, "creating");
        runHooks("prestart", spec.hooks?.prestart, hs);
        runHooks("createRuntime", spec.hooks?.createRuntime, hs);
        return [JSON.stringify(hookState(s, "creating")), JSON.stringify(hookState(s, "created"))];
      },
    });
    delete state.creating;
    dir.write(state);
    ctx.log.debug(`create ${id}: created, waiting on exec.fifo`);
    if (o.pidFile) writePidFile(o.pidFile, state.pid);
    dir.unlock();
    return { state, launched, relay: plan.relay !== undefined, restoreTerminal: terminal.restoreTerminal };
  } catch (err) {
    if (state) destroy(state);
    dir.remove();
    terminal?.restoreTerminal();
    throw err;
  } finally {
    terminal?.close();
  }
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

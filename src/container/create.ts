import { posix } from "node:path";
import { cgroupPathsFor, cgroupsOf } from "../cgroups/driver.ts";
import { applyDevices } from "../cgroups/apply-devices.ts";
import { applyV1, applyV2, assertRealtimeBudget } from "../cgroups/apply.ts";
import { deviceRules, type SpecDeviceRule } from "../cgroups/device-rules.ts";
import { cgroupLayout, v1Hierarchies } from "../cgroups/layout.ts";
import { containerCgroupPath } from "../cgroups/path.ts";
import { planResources, type Resources } from "../cgroups/resources.ts";
import { ConfigError, RuntsError, wrapSys } from "../errors.ts";
import { checkPreservedFds, launch, type Launched } from "../helper/launch.ts";
import { hookState, runHooks } from "../hooks.ts";
import { chmod, exists, O, readText, readTextIfAny, rename, writeText } from "../libc.ts";
import { hostFacts } from "../plan/facts.ts";
import { planContainer, rootfsPath, SYNC_CREATE_RUNTIME } from "../plan/container.ts";
import { passwdEntry } from "../passwd.ts";
import { loadSpec } from "../spec/load.ts";
import { validateId } from "../state/container-id.ts";
import { StateDir, type StoredState } from "../state/state-dir.ts";
import { processStartTime } from "../state/status.ts";
import { mkfifo } from "../sys.ts";
import type { Context } from "./context.ts";
import { destroy } from "./destroy.ts";

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  noPivot: boolean;
  preserveFds: number;
  /** `run` without --detach: the helper stays and exits with the container's status. */
  foreground: boolean;
}

/** Creates the container: on success its init waits on exec.fifo; on failure nothing is left. */
export async function create(ctx: Context, o: CreateOptions): Promise<{ state: StoredState; launched: Launched }> {
  checkPreservedFds(o.preserveFds);
  const id = validateId(o.id);
  const bundle = posix.resolve(o.bundle);
  if (!exists(bundle)) throw new RuntsError("create: bundle", bundle, 2);
  const dir = new StateDir(ctx.root, id);
  dir.create();
  let state: StoredState | undefined;
  try {
    const spec = loadSpec(bundle);
    ctx.log.debug(`create ${id}: loaded ${bundle}/config.json (ociVersion ${spec.ociVersion})`);
    const rootfs = rootfsPath(spec, bundle);
    if (hostFacts.kind(rootfs) !== "dir") throw new ConfigError(`root.path: ${JSON.stringify(rootfs)} is not a directory`);
    const layout = cgroupLayout(readText("/proc/self/mountinfo"));
    const cgroupRel = containerCgroupPath(spec.linux?.cgroupsPath, id);
    const cgroupPaths = cgroupPathsFor(layout, cgroupRel);
    const cgroups = cgroupsOf(cgroupPaths);
    const devices = deviceRules(spec.linux?.resources?.devices as SpecDeviceRule[] | undefined);
    const resources = planResources(spec.linux?.resources as Resources | undefined);
    ctx.log.debug(`create ${id}: cgroup ${cgroupPaths.cgroupDir}`);
    if (cgroupPaths.cgroupV1) ctx.log.debug(`create ${id}: v1 cgroups ${cgroups.dirs().join(" ")}`);
    const plan = planContainer(spec, {
      bundle,
      rootfs,
      stateDir: dir.dir,
      cgroupDir: cgroupPaths.cgroupDir,
      cgroupJoin: cgroups.joinFiles(),
      cgroupV1Mounts: layout.mode === "unified" ? undefined : v1Hierarchies(layout, cgroupRel),
      foreground: o.foreground,
      noPivot: o.noPivot,
      preserveFds: o.preserveFds,
      facts: hostFacts,
    });
    for (const w of plan.warnings) ctx.log.warn(w);
    // Before state.json names the cgroup: the cleanup of a failed create kills what is in it.
    cgroups.assertFree();
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
      ...cgroupPaths,
      resources: spec.linux?.resources,
      hooks: spec.hooks,
      creating: true,
    };
    dir.write(state);
    cgroups.create();
    if (layout.mode === "unified") applyV2(layout.unified!, cgroupPaths.cgroupDir, resources);
    else applyV1(cgroupPaths, resources);
    assertRealtimeBudget(cgroupPaths, spec.process?.scheduler?.policy);
    applyDevices(cgroupPaths, devices);
    mkfifo(dir.fifoPath, 0o622);
    // A non-root container user opens it for writing; mkfifo applied the umask.
    wrapSys("chmod exec.fifo", dir.fifoPath, () => chmod(dir.fifoPath, 0o622));
    const s = state;
    const launched = await launch(plan.ops, {
      preserveFds: o.preserveFds,
      log: ctx.log,
      onPid(pid) {
        ctx.log.debug(`create ${id}: container init pid ${pid}`);
        s.pid = pid;
        s.pidStartTime = processStartTime(pid) ?? "";
        dir.write(s);
        if (plan.oomScoreAdj !== undefined) {
          const file = `/proc/${pid}/oom_score_adj`;
          wrapSys("set oom_score_adj", file, () => writeText(file, String(plan.oomScoreAdj), O.WRONLY));
        }
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
    return { state, launched };
  } catch (err) {
    if (state) destroy(state);
    dir.remove();
    throw err;
  }
}

/** The name of the user running runts, as runc reports it in `state` and `list`. */
function ownerName(): string {
  const uid = process.getuid?.() ?? 0;
  return passwdEntry(readTextIfAny("/etc/passwd"), uid)?.name ?? `#${uid}`;
}

/** Writes a pid file atomically (managers read it as soon as it appears). */
function writePidFile(path: string, pid: number): void {
  const abs = posix.resolve(path);
  const tmp = posix.join(posix.dirname(abs), `.${posix.basename(abs)}.${process.pid}.tmp`);
  wrapSys("write pid file", tmp, () => writeText(tmp, String(pid)));
  wrapSys("write pid file", abs, () => rename(tmp, abs));
}

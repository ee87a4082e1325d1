// start, state, kill, delete, pause/resume: the commands on an existing container.
import { allProcs, setFrozen } from "../cgroups/v2.ts";
import { errnoOf, RuntsError } from "../errors.ts";
import { hookState, runHooks } from "../hooks.ts";
import { close, O, open, readSome, unlink } from "../libc.ts";
import { validateId } from "../state/container-id.ts";
import { StateDir, type StoredState } from "../state/state-dir.ts";
import { initAlive, statusOf, type Status } from "../state/status.ts";
import { sleepMs } from "../sleep.ts";
import type { Context } from "./context.ts";
import { destroy } from "./destroy.ts";

export interface Opened {
  dir: StateDir;
  state: StoredState;
  status: Status;
}

/** Locks and reads a container. A create that died before writing state.json reads as "creating". */
export function openContainer(ctx: Context, id: string): Opened {
  const dir = new StateDir(ctx.root, validateId(id));
  dir.open();
  const state = dir.read() ?? {
    ociVersion: "",
    id,
    pid: 0,
    pidStartTime: "",
    bundle: "",
    rootfs: "",
    created: "",
    owner: "",
    cgroupDir: "",
    creating: true,
  };
  return { dir, state, status: statusOf(state, dir.fifoPath) };
}

/** Runs fn with the container locked; the lock is released when fn returns or throws. */
export function withContainer<T>(ctx: Context, id: string, fn: (o: Opened) => T): T {
  const o = openContainer(ctx, id);
  try {
    return fn(o);
  } finally {
    o.dir.unlock();
  }
}

/** runc's `state` output, its fields in runc's order. */
export function stateJson(o: Opened): Record<string, unknown> {
  const s = o.state;
  const annotations = s.annotations && Object.keys(s.annotations).length ? s.annotations : undefined;
  return {
    ociVersion: s.ociVersion,
    id: s.id,
    pid: o.status === "stopped" ? 0 : s.pid,
    status: o.status,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
    ...(annotations && { annotations }),
    owner: s.owner,
  };
}

/** Releases the init blocked on exec.fifo: it reads the byte the init writes, then removes the fifo. */
export function releaseInit(o: Opened): void {
  let fd: number;
  try {
    fd = open(o.dir.fifoPath, O.RDONLY | O.NONBLOCK);
  } catch (err) {
    throw new RuntsError("start: open exec.fifo", o.dir.fifoPath, errnoOf(err));
  }
  try {
    const buf = new Uint8Array(1);
    const deadline = Date.now() + 10_000;
    for (;;) {
      let n = 0;
      try {
        n = readSome(fd, buf);
      } catch (err) {
        throw new RuntsError("start: read exec.fifo", o.dir.fifoPath, errnoOf(err));
      }
      if (n === 1) break;
      if (!initAlive(o.state)) throw new RuntsError("start", o.state.id, 0, "the container's init exited before it was started");
      if (Date.now() > deadline) throw new RuntsError("start", o.state.id, 0, "the container's init did not answer on exec.fifo");
      sleepMs(1);
    }
  } finally {
    close(fd);
  }
  unlink(o.dir.fifoPath);
}

export function start(ctx: Context, id: string): void {
  withContainer(ctx, id, (o) => startLocked(ctx, o));
}

function startLocked(ctx: Context, o: Opened): void {
  const id = o.state.id;
  switch (o.status) {
    case "created":
      break;
    case "stopped":
      throw new RuntsError("start", id, 0, "cannot start a container that has stopped");
    case "creating":
      throw new RuntsError("start", id, 0, "the container is still being created (or its create failed: delete --force it)");
    default:
      throw new RuntsError("start", id, 0, `cannot start an already ${o.status} container`);
  }
  releaseInit(o);
  runHooks("poststart", o.state.hooks?.poststart, hookState(o.state, "running"), (m) => ctx.log.warn(m));
}

export function kill(ctx: Context, id: string, signal: number, all: boolean): void {
  withContainer(ctx, id, (o) => killLocked(o, signal, all));
}

function killLocked(o: Opened, signal: number, all: boolean): void {
  const id = o.state.id;
  if (o.status === "stopped" || o.status === "creating" || o.state.pid === 0) {
    throw new RuntsError("kill", id, 0, "container not running");
  }
  const pids = all ? allProcs(o.state.cgroupDir) : [o.state.pid];
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if (errnoOf(err) !== 3) throw new RuntsError("kill", `pid ${pid}`, errnoOf(err));
    }
  }
}

export function remove(ctx: Context, id: string, force: boolean): void {
  let o: Opened;
  try {
    o = openContainer(ctx, id);
  } catch (err) {
    // podman's cleanup deletes ids that are already gone: with --force that is success.
    if (force && err instanceof RuntsError && err.detail === "does not exist") return;
    throw err;
  }
  try {
    removeLocked(ctx, o, force);
  } finally {
    o.dir.unlock();
  }
}

function removeLocked(ctx: Context, o: Opened, force: boolean): void {
  const id = o.state.id;
  if ((o.status === "running" || o.status === "paused") && !force) {
    throw new RuntsError("delete", id, 0, `cannot delete a ${o.status} container without --force`);
  }
  if (o.status === "paused") setFrozen(o.state.cgroupDir, false);
  destroy(o.state);
  if (o.status !== "creating" || o.state.pid > 0) {
    runHooks("poststop", o.state.hooks?.poststop, hookState(o.state, "stopped"), (m) => ctx.log.warn(m));
  }
  o.dir.remove();
}

export function pause(ctx: Context, id: string, frozen: boolean): void {
  withContainer(ctx, id, (o) => {
    const want: Status = frozen ? "running" : "paused";
    if (o.status !== want) {
      throw new RuntsError(frozen ? "pause" : "resume", id, 0, `container is ${o.status}, not ${want}`);
    }
    setFrozen(o.state.cgroupDir, frozen);
  });
}

/** Host pids of every process in the container. */
export function ps(ctx: Context, id: string): number[] {
  return withContainer(ctx, id, (o) => allProcs(o.state.cgroupDir).sort((a, b) => a - b));
}

// start, state, kill, delete, pause/resume: the commands on an existing container.
import { cgroupsOf } from "../cgroups/driver.ts";
import { errnoOf, RuntsError } from "../errors.ts";
import { decodePayload, fieldInt, fieldString, Msg } from "../helper/protocol.ts";
import { hookState, runHooks } from "../hooks.ts";
import { close, concat, O, open, POLLIN, pollOne, readSome, unlink } from "../libc.ts";
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

/**
 * Locks and reads a container. A create that died before writing state.json reads as
 * "creating"; so does an unreadable state.json with `unreadableAsCreating` (delete --force).
 */
export function openContainer(ctx: Context, id: string, unreadableAsCreating = false): Opened {
  const dir = new StateDir(ctx.root, validateId(id));
  dir.open();
  let stored: StoredState | undefined;
  try {
    stored = dir.read();
  } catch (err) {
    if (!unreadableAsCreating) {
      dir.unlock();
      throw err;
    }
  }
  const state = stored ?? {
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

/** How long `start` waits for the init to open exec.fifo, and for it to execve after that. */
const FIFO_WAIT_MS = 10_000;

/**
 * Releases the init blocked on exec.fifo and waits for its answer: the byte it writes once
 * the fifo is open, then EOF when execve closes the fifo (O_CLOEXEC), or an error frame
 * (op, path, errno, detail) when a step between the fifo and execve fails (a startContainer
 * hook, the final CPU affinity, execve). The wait after the byte is bounded by the hooks'
 * timeouts plus FIFO_WAIT_MS; a startContainer hook without a timeout may take as long as
 * it runs (runc waits the same way). On an error the container is killed: it is stopped.
 */
export function releaseInit(o: Opened): void {
  const fifo = o.dir.fifoPath;
  let fd: number;
  try {
    fd = open(fifo, O.RDONLY | O.NONBLOCK);
  } catch (err) {
    throw new RuntsError("start: open exec.fifo", fifo, errnoOf(err));
  }
  let answer: Uint8Array;
  try {
    answer = readAnswer(o, fd);
  } finally {
    close(fd);
  }
  unlink(fifo);
  if (answer.length > 1) {
    stopAfterFailure(o);
    throw reportedError(o.state.id, answer.subarray(1));
  }
}

/** Everything the init writes to exec.fifo until it closes it. */
function readAnswer(o: Opened, fd: number): Uint8Array {
  const fifo = o.dir.fifoPath;
  const hooks = o.state.hooks?.startContainer ?? [];
  const execWindow = hooks.every((h) => h.timeout) ? hooks.reduce((ms, h) => ms + h.timeout! * 1000, FIFO_WAIT_MS) : Infinity;
  const chunks: Uint8Array[] = [];
  let received = 0;
  let deadline = Date.now() + FIFO_WAIT_MS;
  const buf = new Uint8Array(4096);
  for (;;) {
    // Before its byte, the init is looked for between slices: nothing wakes the poll if it
    // dies before opening the fifo. Once dead, the fifo is polled once more: it may have
    // written, exec'd and exited since.
    const wait = Math.max(0, Math.min(deadline - Date.now(), received ? 2 ** 31 - 1 : 100));
    if (pollOne(fd, POLLIN, wait, fifo) === 0) {
      if (!received && !initAlive(o.state) && pollOne(fd, POLLIN, 0, fifo) === 0) {
        throw new RuntsError("start", o.state.id, 0, "the container's init exited before it was started");
      }
      if (Date.now() >= deadline) {
        if (received) stopAfterFailure(o);
        throw new RuntsError("start", o.state.id, 0, received ? "the container's init did not reach exec" : "the container's init did not answer on exec.fifo");
      }
      continue;
    }
    for (;;) {
      let n: number;
      try {
        n = readSome(fd, buf, fifo);
      } catch (err) {
        throw new RuntsError("start: read exec.fifo", fifo, errnoOf(err));
      }
      if (n < 0) break; // EAGAIN: poll again
      if (n === 0) {
        if (!received) throw new RuntsError("start", o.state.id, 0, "the container's init exited before it was started");
        return concat(chunks);
      }
      if (!received) deadline = Date.now() + execWindow;
      chunks.push(buf.slice(0, n));
      received += n;
    }
  }
}

/** The error frame the init wrote after its byte, as the RuntsError it describes. */
function reportedError(id: string, frame: Uint8Array): RuntsError {
  try {
    const len = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0, true);
    const m = decodePayload(frame.subarray(4));
    if (m.type !== Msg.ERROR || len !== frame.length - 4) throw new Error("not an error frame");
    return new RuntsError(fieldString(m, 0), fieldString(m, 1), fieldInt(m, 2), fieldString(m, 3));
  } catch {
    return new RuntsError("start", id, 0, "the container's init failed and sent a malformed report");
  }
}

/** Kills what is left of a container whose start failed and waits (briefly) for its init to go. */
function stopAfterFailure(o: Opened): void {
  cgroupsOf(o.state).kill();
  const deadline = Date.now() + 2_000;
  while (initAlive(o.state) && Date.now() < deadline) sleepMs(1);
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
  // A rootless container without a cgroup: its init (killing a pid namespace's init ends it all).
  const pids = all && hasCgroups(o.state) ? cgroupsOf(o.state).procs() : [o.state.pid];
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if (errnoOf(err) !== 3) throw new RuntsError("kill", `pid ${pid}`, errnoOf(err));
    }
  }
}

export async function remove(ctx: Context, id: string, force: boolean): Promise<void> {
  let o: Opened;
  try {
    o = openContainer(ctx, id, force);
  } catch (err) {
    // podman's cleanup deletes ids that are already gone: with --force that is success.
    if (force && err instanceof RuntsError && err.detail === "does not exist") return;
    throw err;
  }
  try {
    await removeLocked(ctx, o, force);
  } finally {
    o.dir.unlock();
  }
}

async function removeLocked(ctx: Context, o: Opened, force: boolean): Promise<void> {
  const id = o.state.id;
  if ((o.status === "running" || o.status === "paused") && !force) {
    throw new RuntsError("delete", id, 0, `cannot delete a ${o.status} container without --force`);
  }
  await destroy(o.state, ctx.root);
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
    cgroupsOf(o.state).setFrozen(frozen);
  });
}

const hasCgroups = (s: StoredState): boolean => !!(s.cgroupDir || s.cgroupV1);

/** Host pids of every process in the container. */
export function ps(ctx: Context, id: string): number[] {
  return withContainer(ctx, id, (o) => (hasCgroups(o.state) ? cgroupsOf(o.state).procs() : o.state.pid > 0 ? [o.state.pid] : []).sort((a, b) => a - b));
}

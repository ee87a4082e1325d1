// <root>/<id>/: state.json (atomically replaced), exec.fifo, and the directory's flock
// that serializes commands on one container.
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { posix } from "node:path";
import { errnoOf, RuntsError, wrapSys } from "../errors.ts";
import { lockExclusive } from "./lock.ts";
import type { HookName, Hook } from "../spec/types.ts";

export const DEFAULT_ROOT = "/run/runts";

/** What runts keeps about a container between invocations. */
export interface StoredState {
  ociVersion: string;
  id: string;
  /** 0 until the init exists. */
  pid: number;
  /** Field 22 of /proc/PID/stat, so a reused pid is not mistaken for the init. */
  pidStartTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  cgroupDir: string;
  hooks?: Partial<Record<HookName, Hook[]>>;
  /** Set while `create` is still running (or was killed): delete --force cleans it up. */
  creating?: boolean;
}

export class StateDir {
  readonly dir: string;
  private lockFd = -1;

  constructor(
    readonly root: string,
    readonly id: string,
  ) {
    this.dir = posix.join(root, id);
  }

  get statePath(): string {
    return posix.join(this.dir, "state.json");
  }
  get fifoPath(): string {
    return posix.join(this.dir, "exec.fifo");
  }

  /** Makes the directory; fails if the id is taken. Leaves it locked. */
  create(): void {
    wrapSys("create state root", this.root, () => mkdirSync(this.root, { recursive: true, mode: 0o700 }));
    try {
      mkdirSync(this.dir, { mode: 0o711 });
    } catch (err) {
      if (errnoOf(err) === 17) throw new RuntsError("create", this.id, 0, "container with this id already exists");
      throw new RuntsError("create state directory", this.dir, errnoOf(err));
    }
    this.lock();
  }

  /** Locks an existing container; fails cleanly when there is none. */
  open(): void {
    try {
      this.lockFd = openSync(this.dir, "r");
    } catch (err) {
      if (errnoOf(err) === 2) throw new RuntsError("container", this.id, 0, "does not exist");
      throw new RuntsError("open state directory", this.dir, errnoOf(err));
    }
    lockExclusive(this.lockFd, this.dir);
  }

  private lock(): void {
    this.lockFd = wrapSys("open state directory", this.dir, () => openSync(this.dir, "r"));
    lockExclusive(this.lockFd, this.dir);
  }

  /** The stored state, or undefined when create died before writing it. */
  read(): StoredState | undefined {
    let text: string;
    try {
      text = readFileSync(this.statePath, "utf8");
    } catch (err) {
      if (errnoOf(err) === 2) return undefined;
      throw new RuntsError("read state", this.statePath, errnoOf(err));
    }
    try {
      return JSON.parse(text) as StoredState;
    } catch {
      throw new RuntsError("read state", this.statePath, 0, "not valid JSON (delete --force removes it)");
    }
  }

  write(state: StoredState): void {
    const tmp = `${this.statePath}.${process.pid}.tmp`;
    wrapSys("write state", tmp, () => writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 }));
    wrapSys("write state", this.statePath, () => renameSync(tmp, this.statePath));
  }

  remove(): void {
    wrapSys("remove state directory", this.dir, () => rmSync(this.dir, { recursive: true, force: true }));
    this.unlock();
  }

  unlock(): void {
    if (this.lockFd >= 0) closeSync(this.lockFd);
    this.lockFd = -1;
  }
}

/** Writes a pid file atomically (managers read it as soon as it appears). */
export function writePidFile(path: string, pid: number): void {
  const abs = posix.resolve(path);
  const tmp = posix.join(posix.dirname(abs), `.${posix.basename(abs)}.${process.pid}.tmp`);
  wrapSys("write pid file", tmp, () => writeFileSync(tmp, String(pid)));
  wrapSys("write pid file", abs, () => renameSync(tmp, abs));
}

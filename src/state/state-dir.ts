// <root>/<id>/: state.json (atomically replaced), exec.fifo, and the directory's flock
// that serializes commands on one container.
import { errnoOf, RuntsError, wrapSys } from "../errors.ts";
import { chmod, close, flock, mkdir, mkdirAll, O, open, readText, removeTree, rename, S_IFDIR, S_IFMT, stat, writeText } from "../libc.ts";
import type { HookName, Hook } from "../spec/types.ts";

export const DEFAULT_ROOT = "/run/runts";

const LOCK_EX = 2;

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
  /**
   * linux.seccomp as loaded into the init: seccomp(2) flags and the agent; the compiled
   * program is <dir>/seccomp.bpf (SECCOMP_BPF). An exec'd process gets the same filter.
   */
  seccomp?: { flags: number; listener?: { path: string; metadata: string } };
  /** Set while `create` is still running (or was killed): delete --force cleans it up. */
  creating?: boolean;
}

/**
 * Makes the state root, or checks the one --root names: a directory of runts's own user that
 * no one else can write, kept at mode 0700 (others who could reach a container's exec.fifo
 * could make its `start` fail, or start it).
 */
function securePrivateRoot(root: string): void {
  wrapSys("create state root", root, () => mkdirAll(root, 0o700));
  const st = wrapSys("create state root", root, () => stat(root));
  const uid = process.geteuid?.() ?? 0;
  if ((st.mode & S_IFMT) !== S_IFDIR) throw new RuntsError("state root", root, 0, "not a directory");
  if (st.uid !== uid) throw new RuntsError("state root", root, 0, `owned by uid ${st.uid}, not by runts's user (uid ${uid}): refusing it`);
  if (st.mode & 0o022) {
    throw new RuntsError("state root", root, 0, `writable by others (mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")}): refusing it (make it 0700)`);
  }
  if (st.mode & 0o077) wrapSys("state root: chmod 0700", root, () => chmod(root, 0o700));
}

export class StateDir {
  readonly dir: string;
  private lockFd = -1;

  constructor(
    readonly root: string,
    readonly id: string,
  ) {
    this.dir = `${root}/${id}`;
  }

  get statePath(): string {
    return `${this.dir}/state.json`;
  }
  get fifoPath(): string {
    return `${this.dir}/exec.fifo`;
  }
  /** The container's compiled seccomp filter (struct sock_filter[]), for exec. */
  get seccompPath(): string {
    return `${this.dir}/seccomp.bpf`;
  }

  /** Makes the directory; fails if the id is taken. Leaves it locked. */
  create(): void {
    securePrivateRoot(this.root);
    try {
      mkdir(this.dir, 0o711);
    } catch (err) {
      if (errnoOf(err) === 17) throw new RuntsError("create", this.id, 0, "container with this id already exists");
      throw new RuntsError("create state directory", this.dir, errnoOf(err));
    }
    this.lock();
  }

  /** Locks an existing container; fails cleanly when there is none. */
  open(): void {
    try {
      this.lockFd = open(this.dir, O.RDONLY | O.DIRECTORY);
    } catch (err) {
      if (errnoOf(err) === 2) throw new RuntsError("container", this.id, 0, "does not exist");
      throw new RuntsError("open state directory", this.dir, errnoOf(err));
    }
    this.lockHeld();
  }

  private lock(): void {
    this.lockFd = wrapSys("open state directory", this.dir, () => open(this.dir, O.RDONLY | O.DIRECTORY));
    this.lockHeld();
  }

  /** Blocks until the exclusive lock is held; it goes with the fd (or the process). */
  private lockHeld(): void {
    wrapSys("lock", this.dir, () => flock(this.lockFd, LOCK_EX, this.dir));
  }

  /** The stored state, or undefined when create died before writing it. */
  read(): StoredState | undefined {
    let text: string;
    try {
      text = readText(this.statePath);
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
    wrapSys("write state", tmp, () => writeText(tmp, JSON.stringify(state), O.WRONLY | O.CREAT | O.TRUNC | O.NOFOLLOW, 0o600));
    wrapSys("write state", this.statePath, () => rename(tmp, this.statePath));
  }

  remove(): void {
    try {
      removeTree(this.dir);
    } catch (err) {
      if (errnoOf(err) !== 2) throw new RuntsError("remove state directory", this.dir, errnoOf(err));
    }
    this.unlock();
  }

  unlock(): void {
    if (this.lockFd >= 0) close(this.lockFd);
    this.lockFd = -1;
  }
}

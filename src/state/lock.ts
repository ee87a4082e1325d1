// The per-container lock (flock on the state directory), taken by every command.
import { fastLibc } from "../fast-libc.ts";
import { RuntsError } from "../errors.ts";

const LOCK_EX = 2;
const EINTR = 4;

/** Blocks until the exclusive lock on fd is held; released when fd is closed or the process exits. */
export function lockExclusive(fd: number, path: string): void {
  for (;;) {
    if (fastLibc().flock(fd, LOCK_EX) === 0) return;
    const errno = fastLibc().errno();
    if (errno !== EINTR) throw new RuntsError("lock", path, errno);
  }
}

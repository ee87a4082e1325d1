// The per-container lock (flock on the state directory), taken by every command. It goes
// through bun:ffi rather than koffi: loading koffi costs ~9 ms per process, bun:ffi's dlopen
// ~0.3 ms, and `start`/`state`/`kill`/`delete` must stay near runc's ~9 ms in all.
import { dlopen, read } from "bun:ffi";
import { RuntsError } from "../errors.ts";

let libc:
  | { flock(fd: number, op: number): number; errno(): number }
  | undefined;

function c(): NonNullable<typeof libc> {
  if (libc) return libc;
  const { symbols } = dlopen("libc.so.6", {
    flock: { args: ["i32", "i32"], returns: "i32" },
    __errno_location: { args: [], returns: "ptr" },
  });
  libc = {
    flock: (fd, op) => symbols.flock(fd, op),
    errno: () => {
      const p = symbols.__errno_location();
      return p ? read.i32(p, 0) : 0;
    },
  };
  return libc;
}

const LOCK_EX = 2;
const EINTR = 4;

/** Blocks until the exclusive lock on fd is held; released when fd is closed or the process exits. */
export function lockExclusive(fd: number, path: string): void {
  for (;;) {
    if (c().flock(fd, LOCK_EX) === 0) return;
    const errno = c().errno();
    if (errno !== EINTR) throw new RuntsError("lock", path, errno);
  }
}

// libc calls of the commands on an existing container (`start`, `state`, `kill`, `delete`):
// through bun:ffi rather than koffi (src/sys.ts), because loading koffi costs ~9 ms per
// process, bun:ffi's dlopen ~0.3 ms, and these commands must stay near runc's ~9 ms in all.
import { dlopen, read } from "bun:ffi";
import { RuntsError } from "./errors.ts";

interface FastLibc {
  flock(fd: number, op: number): number;
  poll(fds: Uint8Array, nfds: number, timeoutMs: number): number;
  errno(): number;
}

let libc: FastLibc | undefined;

export function fastLibc(): FastLibc {
  if (libc) return libc;
  const { symbols } = dlopen("libc.so.6", {
    flock: { args: ["i32", "i32"], returns: "i32" },
    poll: { args: ["ptr", "u64", "i32"], returns: "i32" },
    __errno_location: { args: [], returns: "ptr" },
  });
  libc = {
    flock: (fd, op) => symbols.flock(fd, op),
    poll: (fds, nfds, timeoutMs) => symbols.poll(fds, nfds, timeoutMs),
    errno: () => {
      const p = symbols.__errno_location();
      return p ? read.i32(p, 0) : 0;
    },
  };
  return libc;
}

export const POLLIN = 0x1;
const EINTR = 4;

/** poll(2) on one fd: its revents, or 0 when timeoutMs passed first. */
export function pollOne(fd: number, events: number, timeoutMs: number, path: string): number {
  const pfd = new Uint8Array(8);
  const view = new DataView(pfd.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, events, true);
  for (;;) {
    const n = fastLibc().poll(pfd, 1, timeoutMs);
    if (n > 0) return view.getInt16(6, true);
    if (n === 0) return 0;
    const errno = fastLibc().errno();
    if (errno !== EINTR) throw new RuntsError("poll", path, errno);
  }
}

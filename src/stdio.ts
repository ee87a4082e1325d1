// Output on fds 1 and 2 with plain write(2): Bun builds process.stdout/stderr on first use,
// which costs ~17 ms, more than runc's whole `state` (DESIGN.md, "Startup").
import { writeAll } from "./libc.ts";

const encoder = new TextEncoder();

/** Best effort: a closed stdout must not turn a done job into a failure. */
function writeFd(fd: number, text: string): void {
  try {
    writeAll(fd, encoder.encode(text));
  } catch {}
}

export function writeStdout(text: string): void {
  writeFd(1, text);
}

export function writeStderr(text: string): void {
  writeFd(2, text);
}

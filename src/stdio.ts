// Output on fds 1 and 2 with plain write(2). Bun builds process.stdout/stderr on first use,
// which costs ~17 ms: more than runc's whole `state` (measured in bench/, see DESIGN.md).
import { writeSync } from "node:fs";
import { sleepMs } from "./sleep.ts";

const EAGAIN = 11;

function writeFd(fd: number, text: string): void {
  let data = Buffer.from(text);
  while (data.length) {
    let n = 0;
    try {
      n = writeSync(fd, data);
    } catch (err) {
      // A non-blocking pipe from the caller: wait for room instead of losing output.
      if (Math.abs((err as { errno?: number }).errno ?? 0) !== EAGAIN) return;
      sleepMs(1);
    }
    data = data.subarray(n);
  }
}

export function writeStdout(text: string): void {
  writeFd(1, text);
}

export function writeStderr(text: string): void {
  writeFd(2, text);
}

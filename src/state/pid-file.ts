import { posix } from "node:path";
import { wrapSys } from "../errors.ts";
import { rename, writeText } from "../libc.ts";

/** Writes a pid file atomically (managers read it as soon as it appears). */
export function writePidFile(path: string, pid: number): void {
  const abs = posix.resolve(path);
  const tmp = posix.join(posix.dirname(abs), `.${posix.basename(abs)}.${process.pid}.tmp`);
  wrapSys("write pid file", tmp, () => writeText(tmp, String(pid)));
  wrapSys("write pid file", abs, () => rename(tmp, abs));
}

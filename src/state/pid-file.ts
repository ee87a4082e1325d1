import { posix } from "node:path";
import { wrapSys } from "../errors.ts";
import { O, rename, writeText } from "../libc.ts";

/**
 * Writes a pid file atomically (managers read it as soon as it appears). The temporary file is
 * created exclusively and never through a symlink: whoever can write the pid file's directory
 * must not make root write elsewhere (runc opens it O_EXCL too); rename replaces a symlink at
 * the pid file's own name rather than following it.
 */
export function writePidFile(path: string, pid: number): void {
  const abs = posix.resolve(path);
  const tmp = posix.join(posix.dirname(abs), `.${posix.basename(abs)}.${process.pid}.tmp`);
  wrapSys("write pid file", tmp, () => writeText(tmp, String(pid), O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW));
  wrapSys("write pid file", abs, () => rename(tmp, abs));
}

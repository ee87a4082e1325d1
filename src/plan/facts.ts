import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { openInRoot } from "../sys.ts";

/** What the planner needs to know about the host. The real one reads the host; tests pass a double. */
export interface HostFacts {
  /** "dir", "file" (anything else that exists) or undefined when path does not exist. */
  kind(path: string): "dir" | "file" | undefined;
  /** /proc/sys/kernel/cap_last_cap */
  lastCap(): number;
  exists(path: string): boolean;
  /**
   * A regular file of the container image (its first MAX_IMAGE_FILE bytes), read with every path
   * component resolved inside root; undefined for anything else (a FIFO or device there must
   * not hang or flood create).
   */
  readInRoot(root: string, path: string): string | undefined;
}

const MAX_IMAGE_FILE = 1 << 20;

export const hostFacts: HostFacts = {
  kind(path) {
    try {
      return statSync(path).isDirectory() ? "dir" : "file";
    } catch {
      return undefined;
    }
  },
  lastCap() {
    return Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8").trim());
  },
  exists: existsSync,
  readInRoot(root, path) {
    let rootFd = -1;
    let fd = -1;
    try {
      rootFd = openSync(root, "r");
      fd = openInRoot(rootFd, path);
      const st = fstatSync(fd);
      if (!st.isFile()) return undefined;
      const buf = Buffer.alloc(Math.min(st.size, MAX_IMAGE_FILE));
      return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString("utf8");
    } catch {
      return undefined;
    } finally {
      if (fd >= 0) closeSync(fd);
      if (rootFd >= 0) closeSync(rootFd);
    }
  },
};

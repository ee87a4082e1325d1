import { closeSync, existsSync, openSync, readFileSync, statSync } from "node:fs";
import { openInRoot } from "../sys.ts";

/** What the planner needs to know about the host. The real one reads the host; tests pass a double. */
export interface HostFacts {
  /** "dir", "file" (anything else that exists) or undefined when path does not exist. */
  kind(path: string): "dir" | "file" | undefined;
  /** /proc/sys/kernel/cap_last_cap */
  lastCap(): number;
  exists(path: string): boolean;
  /** A file of the container image, read with every path component resolved inside root. */
  readInRoot(root: string, path: string): string | undefined;
}

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
      return readFileSync(fd, "utf8");
    } catch {
      return undefined;
    } finally {
      if (fd >= 0) closeSync(fd);
      if (rootFd >= 0) closeSync(rootFd);
    }
  },
};

import { close, exists, fstat, O, open, readFull, readText, S_IFDIR, S_IFMT, S_IFREG, stat } from "../libc.ts";
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
  /** uid_map and gid_map of the user namespace at a /proc/PID/ns/user path; undefined for any other path. */
  userNamespaceMaps(nsPath: string): { uid: string; gid: string } | undefined;
}

const MAX_IMAGE_FILE = 1 << 20;

export const hostFacts: HostFacts = {
  kind(path) {
    try {
      return (stat(path).mode & S_IFMT) === S_IFDIR ? "dir" : "file";
    } catch {
      return undefined;
    }
  },
  lastCap() {
    return Number(readText("/proc/sys/kernel/cap_last_cap").trim());
  },
  exists,
  userNamespaceMaps(nsPath) {
    const proc = /^\/proc\/(\d+|self)(\/task\/\d+)?\/ns\/user$/.exec(nsPath);
    if (!proc) return undefined;
    const dir = nsPath.slice(0, -"/ns/user".length);
    try {
      return { uid: readText(`${dir}/uid_map`), gid: readText(`${dir}/gid_map`) };
    } catch {
      return undefined;
    }
  },
  readInRoot(root, path) {
    let rootFd = -1;
    let fd = -1;
    try {
      rootFd = open(root, O.RDONLY | O.DIRECTORY);
      fd = openInRoot(rootFd, path);
      const st = fstat(fd, path);
      if ((st.mode & S_IFMT) !== S_IFREG) return undefined;
      return new TextDecoder().decode(readFull(fd, Math.min(st.size, MAX_IMAGE_FILE), path));
    } catch {
      return undefined;
    } finally {
      if (fd >= 0) close(fd);
      if (rootFd >= 0) close(rootFd);
    }
  },
};

import { existsSync, readFileSync, statSync } from "node:fs";

/** What the planner needs to know about the host. The real one reads the host; tests pass a double. */
export interface HostFacts {
  /** "dir", "file" (anything else that exists) or undefined when path does not exist. */
  kind(path: string): "dir" | "file" | undefined;
  /** /proc/sys/kernel/cap_last_cap */
  lastCap(): number;
  exists(path: string): boolean;
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
};

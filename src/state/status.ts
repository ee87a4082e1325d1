import { exists, readTextIfAny } from "../libc.ts";
import { cgroupsOf } from "../cgroups/driver.ts";
import type { StoredState } from "./state-dir.ts";

export type Status = "creating" | "created" | "running" | "paused" | "stopped";

/** Field 22 (starttime) of /proc/PID/stat, or undefined when the process is gone or a zombie. */
export function processStartTime(pid: number): string | undefined {
  const stat = readTextIfAny(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  return fields[19];
}

export function initAlive(s: StoredState): boolean {
  return s.pid > 0 && processStartTime(s.pid) === s.pidStartTime;
}

export function statusOf(s: StoredState, fifoPath: string): Status {
  if (s.creating) return "creating";
  if (!initAlive(s)) return "stopped";
  if (cgroupsOf(s).isFrozen()) return "paused";
  return exists(fifoPath) ? "created" : "running";
}

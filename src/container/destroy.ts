import { cgroupsOf } from "../cgroups/driver.ts";
import type { StoredState } from "../state/state-dir.ts";
import { processStartTime } from "../state/status.ts";

/** Kills whatever is left of a container and removes its cgroups (not its state directory). */
export function destroy(s: StoredState): void {
  const cgroups = cgroupsOf(s);
  if (s.cgroupDir || s.cgroupV1) {
    cgroups.remove();
  } else if (s.pid > 0 && processStartTime(s.pid) === s.pidStartTime) {
    try {
      process.kill(s.pid, "SIGKILL");
    } catch {}
  }
}

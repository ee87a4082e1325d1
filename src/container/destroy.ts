import { killCgroup, removeCgroup } from "../cgroups/v2.ts";
import { exists } from "../libc.ts";
import { detach } from "../network/detach.ts";
import type { StoredState } from "../state/state-dir.ts";
import { processStartTime } from "../state/status.ts";

/**
 * Kills whatever is left of a container and removes its cgroup and its network (not its
 * state directory).
 */
export function destroy(s: StoredState, root: string): void {
  if (s.cgroupDir && exists(s.cgroupDir)) {
    killCgroup(s.cgroupDir);
    removeCgroup(s.cgroupDir);
  } else if (s.pid > 0 && processStartTime(s.pid) === s.pidStartTime) {
    try {
      process.kill(s.pid, "SIGKILL");
    } catch {}
  }
  if (s.network) detach(root, s.id);
}

import { cgroupsOf } from "../cgroups/driver.ts";
import type { StoredState } from "../state/state-dir.ts";
import { processStartTime } from "../state/status.ts";

/**
 * Kills whatever is left of a container and removes its cgroups and its network (not its
 * state directory). The networking code loads only for a container that has a network.
 */
export async function destroy(s: StoredState, root: string): Promise<void> {
  const cgroups = cgroupsOf(s);
  if (s.cgroupDir || s.cgroupV1) {
    cgroups.remove();
  } else if (s.pid > 0 && processStartTime(s.pid) === s.pidStartTime) {
    try {
      process.kill(s.pid, "SIGKILL");
    } catch {}
  }
  if (s.network) (await import("../network/detach.ts")).detach(root, s.id);
}

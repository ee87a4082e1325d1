// `events`: the container's cgroup statistics (once with --stats, else every interval) and
// its OOM kills, as runc prints them: one JSON object per line.
import type { CgroupPaths } from "../cgroups/driver.ts";
import { oomKills, statsJson, v1Stats, v2Stats } from "../cgroups/stats.ts";
import { RuntsError } from "../errors.ts";
import { readTextIfAny } from "../libc.ts";
import { sleepMs } from "../sleep.ts";
import { writeStdout } from "../stdio.ts";
import type { Context } from "./context.ts";
import { withContainer } from "./lifecycle.ts";

/** How often the OOM counters are read between two stats events. */
const OOM_POLL_MS = 100;

function running(ctx: Context, id: string): CgroupPaths | undefined {
  try {
    return withContainer(ctx, id, (o) => (o.status === "stopped" || o.status === "creating" ? undefined : { cgroupDir: o.state.cgroupDir, cgroupV1: o.state.cgroupV1 }));
  } catch (err) {
    if (err instanceof RuntsError && err.detail === "does not exist") return undefined;
    throw err;
  }
}

export function events(ctx: Context, id: string, o: { stats: boolean; intervalMs: number }): void {
  const paths = running(ctx, id);
  if (!paths) throw new RuntsError("events", id, 0, "container is not running");
  const read = readTextIfAny;
  const emit = (e: Record<string, unknown>) => writeStdout(statsJson(e) + "\n");
  const stats = () => emit({ type: "stats", id, data: paths.cgroupV1 ? v1Stats(paths, read) : v2Stats(paths, read) });
  if (o.stats) return stats();
  let ooms = oomKills(paths, read);
  let next = Date.now();
  for (;;) {
    if (Date.now() >= next) {
      stats();
      next += o.intervalMs;
    }
    const now = oomKills(paths, read);
    if (now > ooms) emit({ type: "oom", id });
    ooms = now;
    if (!running(ctx, id)) return;
    sleepMs(Math.max(1, Math.min(OOM_POLL_MS, next - Date.now())));
  }
}

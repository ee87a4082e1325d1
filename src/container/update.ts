// `update`: new resource limits for a created, running or paused container. The new values
// are merged into the ones state.json keeps, planned and written as create writes them.
import { applyV1, applyV2 } from "../cgroups/apply.ts";
import { deviceRules, type SpecDeviceRule } from "../cgroups/device-rules.ts";
import { cgroupLayout } from "../cgroups/layout.ts";
import { planResources, type Resources } from "../cgroups/resources.ts";
import { RuntsError } from "../errors.ts";
import { readText, readTextIfAny } from "../libc.ts";
import type { Context } from "./context.ts";
import { withContainer } from "./lifecycle.ts";

/** Objects merge key by key (one level down too); arrays and scalars replace. */
export function mergeResources(old: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...old };
  for (const [k, v] of Object.entries(patch)) {
    const prev = out[k];
    const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
    out[k] = isObj(v) && isObj(prev) ? { ...prev, ...v } : v;
  }
  return out;
}

/** memory.checkBeforeUpdate: a limit below what the container uses now is refused. */
function checkUsage(state: { cgroupDir: string; cgroupV1?: Record<string, string> }, limit: number): void {
  const usage = state.cgroupV1?.memory
    ? readTextIfAny(`${state.cgroupV1.memory}/memory.usage_in_bytes`)
    : readTextIfAny(`${state.cgroupDir}/memory.current`);
  if (usage !== undefined && limit > 0 && Number(usage) > limit) {
    throw new RuntsError("update", "", 0, `the new limit ${limit} is below the current usage ${Number(usage)} (checkBeforeUpdate)`, "linux.resources.memory.limit");
  }
}

export async function update(ctx: Context, id: string, patch: Record<string, unknown>): Promise<void> {
  // koffi (the BPF program) only when the device rules change.
  const devices = patch.devices ? await import("../cgroups/apply-devices.ts") : undefined;
  withContainer(ctx, id, (o) => {
    if (o.status === "stopped" || o.status === "creating") throw new RuntsError("update", id, 0, `container is ${o.status}`);
    const merged = mergeResources(o.state.resources ?? {}, patch);
    const plan = planResources(merged as Resources);
    const mem = merged.memory as { checkBeforeUpdate?: boolean } | undefined;
    if (mem?.checkBeforeUpdate && plan.memory.limit) checkUsage(o.state, plan.memory.limit);
    const layout = cgroupLayout(readText("/proc/self/mountinfo"));
    if (o.state.cgroupV1) applyV1(o.state, plan);
    else applyV2(layout.unified!, o.state.cgroupDir, plan);
    if (devices) devices.applyDevices(o.state, deviceRules(patch.devices as SpecDeviceRule[]));
    o.state.resources = merged;
    o.dir.write(o.state);
    ctx.log.debug(`update ${id}: ${JSON.stringify(patch)}`);
  });
}

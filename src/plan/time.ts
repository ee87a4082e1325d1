// linux.timeOffsets: the clocks a time namespace shifts (time_namespaces(7)).
import { ConfigError } from "../errors.ts";
import type { PlanOp } from "../helper/protocol.ts";
import type { Linux } from "../spec/types.ts";
import type { NamespacePlan } from "./namespaces.ts";

/** The clocks /proc/PID/timens_offsets takes, by their runtime-spec names. */
const CLOCKS = ["monotonic", "boottime"] as const;

const NSEC_PER_SEC = 1_000_000_000;

/**
 * The parent's OP_TIME_OFFSETS for a new time namespace with offsets: runts-init unshares the
 * namespace and writes them before clone3, as they cannot change once a process is in it.
 * Without offsets a new time namespace is a plain clone flag.
 */
export function planTimeOffsets(linux: Linux, ns: NamespacePlan): PlanOp | undefined {
  const offsets = linux.timeOffsets;
  if (offsets === undefined) return undefined;
  const joined = ns.join.some((j) => j.type === "time");
  if (!ns.has("time") || joined) {
    throw new ConfigError(`linux.timeOffsets: needs a new time namespace (linux.namespaces ${joined ? "joins one by path" : 'has no "time"'})`);
  }
  const lines: string[] = [];
  for (const [clock, o] of Object.entries(offsets)) {
    const where = `linux.timeOffsets.${clock}`;
    if (!(CLOCKS as readonly string[]).includes(clock)) throw new ConfigError(`${where}: unknown clock (${CLOCKS.join(" or ")})`);
    const secs = o.secs ?? 0;
    const nanosecs = o.nanosecs ?? 0;
    if (!Number.isSafeInteger(secs)) throw new ConfigError(`${where}.secs: ${secs} is not an integer`);
    if (!Number.isInteger(nanosecs) || nanosecs < 0 || nanosecs >= NSEC_PER_SEC) {
      throw new ConfigError(`${where}.nanosecs: ${nanosecs} is not in 0..999999999`);
    }
    lines.push(`${clock} ${secs} ${nanosecs}\n`);
  }
  return { op: "TIME_OFFSETS", args: [lines.join("")], origin: "linux.timeOffsets" };
}

import { update } from "../container/update.ts";
import { unknownResource } from "../cgroups/resources.ts";
import { RuntsError } from "../errors.ts";
import { readText } from "../libc.ts";
import type { Handler } from "./commands.ts";

const RAM_UNITS: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** runc's units.RAMInBytes: "16m", "1.5g", "512KiB"; -1 for unlimited. */
export function ramInBytes(flag: string, s: string): number {
  if (s === "-1") return -1;
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?(?:i?b)?$/i.exec(s);
  if (!m) throw new RuntsError("update", "", 0, `--${flag}: ${JSON.stringify(s)} is not a size`);
  return Math.floor(Number(m[1]) * RAM_UNITS[(m[2] ?? "").toLowerCase()]!);
}

function integer(flag: string, s: string, min: number): number {
  if (!/^-?\d+$/.test(s) || Number(s) < min || !Number.isSafeInteger(Number(s))) throw new RuntsError("update", "", 0, `--${flag}: ${JSON.stringify(s)} is not a whole number >= ${min}`);
  return Number(s);
}


/** -r's JSON: a linux.resources object; unknown keys are refused, not dropped. */
function parseResources(source: string, text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new RuntsError("update: parse", source, 0, (err as Error).message);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new RuntsError("update", source, 0, "the resources must be a JSON object");
  const unknown = unknownResource(v as Record<string, unknown>);
  if (unknown) throw new RuntsError("update", source, 0, `unknown resource ${unknown}`);
  return v as Record<string, unknown>;
}

const handler: Handler = async (args, ctx) => {
  const f = args.flags as Record<string, string | undefined>;
  for (const rdt of ["l3-cache-schema", "mem-bw-schema"]) {
    if (f[rdt] !== undefined) throw new RuntsError("update", "", 0, `--${rdt}: Intel RDT is not supported`);
  }
  const given = Object.keys(f).filter((k) => f[k] !== undefined && k !== "resources");
  let patch: Record<string, unknown>;
  if (f.resources !== undefined) {
    if (given.length) throw new RuntsError("update", "", 0, `--resources replaces every other flag (given: --${given.join(", --")})`);
    const source = f.resources === "-" ? "/dev/stdin" : f.resources;
    let text: string;
    try {
      text = readText(source);
    } catch (err) {
      throw new RuntsError("update: read", source, (err as { errno?: number }).errno ?? 0);
    }
    patch = parseResources(source, text);
  } else {
    const memory: Record<string, number> = {};
    const cpu: Record<string, number | string> = {};
    if (f.memory !== undefined) memory.limit = ramInBytes("memory", f.memory);
    if (f["memory-reservation"] !== undefined) memory.reservation = ramInBytes("memory-reservation", f["memory-reservation"]);
    if (f["memory-swap"] !== undefined) memory.swap = ramInBytes("memory-swap", f["memory-swap"]);
    for (const k of ["kernel-memory", "kernel-memory-tcp"]) if (f[k] !== undefined) ramInBytes(k, f[k]!);
    if (f["cpu-share"] !== undefined) cpu.shares = integer("cpu-share", f["cpu-share"], 0);
    if (f["cpu-quota"] !== undefined) cpu.quota = integer("cpu-quota", f["cpu-quota"], -1);
    if (f["cpu-period"] !== undefined) cpu.period = integer("cpu-period", f["cpu-period"], 0);
    if (f["cpu-rt-runtime"] !== undefined) cpu.realtimeRuntime = integer("cpu-rt-runtime", f["cpu-rt-runtime"], -1);
    if (f["cpu-rt-period"] !== undefined) cpu.realtimePeriod = integer("cpu-rt-period", f["cpu-rt-period"], 0);
    if (f["cpuset-cpus"] !== undefined) cpu.cpus = f["cpuset-cpus"];
    if (f["cpuset-mems"] !== undefined) cpu.mems = f["cpuset-mems"];
    patch = {};
    if (Object.keys(memory).length) patch.memory = memory;
    if (Object.keys(cpu).length) patch.cpu = cpu;
    if (f["pids-limit"] !== undefined) patch.pids = { limit: integer("pids-limit", f["pids-limit"], -1) };
    if (f["blkio-weight"] !== undefined) patch.blockIO = { weight: integer("blkio-weight", f["blkio-weight"], 0) };
  }
  await update(ctx, args.positionals[0]!, patch);
  return 0;
};
export default handler;

// linux.memoryPolicy (runtime-spec 1.3) -> OP_MEMPOLICY: set_mempolicy(2) in the init before
// exec, inherited by the process. Errors are worded as runc's specconv words them.
import { ConfigError } from "../errors.ts";
import type { PlanOp } from "../helper/protocol.ts";
import type { Spec } from "../spec/types.ts";

export const MPOL_MODES: Record<string, number> = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
};

export const MPOL_FLAGS: Record<string, number> = {
  MPOL_F_NUMA_BALANCING: 1 << 13,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_STATIC_NODES: 1 << 15,
};

/** The kernel's MAX_NUMNODES is at most 1024 (CONFIG_NODES_SHIFT 10). */
const MAX_NODES = 1024;

/** "0-3,7" -> the node mask as bytes (whole 64-bit words, as the kernel reads it) and the node count. */
function nodeMask(list: string): { mask: Uint8Array; count: number } {
  const nodes = new Set<number>();
  for (const part of list.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
    if (!m || hi < lo) throw new ConfigError(`linux.memoryPolicy.nodes: invalid memory policy nodes ${JSON.stringify(list)}`);
    if (hi >= MAX_NODES) throw new ConfigError(`linux.memoryPolicy.nodes: invalid memory policy node ${hi} in ${JSON.stringify(list)} (nodes are below ${MAX_NODES})`);
    for (let n = lo; n <= hi; n++) nodes.add(n);
  }
  const top = Math.max(...nodes);
  const mask = new Uint8Array(Math.ceil((top + 1) / 64) * 8);
  for (const n of nodes) mask[n >> 3]! |= 1 << (n & 7);
  return { mask, count: nodes.size };
}

export function planMemoryPolicy(spec: Spec): PlanOp[] {
  const mp = spec.linux?.memoryPolicy;
  if (!mp) return [];
  const mode = MPOL_MODES[mp.mode];
  if (mode === undefined) throw new ConfigError(`linux.memoryPolicy.mode: invalid memory policy mode ${JSON.stringify(mp.mode)}`);
  let flags = 0;
  for (const [i, f] of (mp.flags ?? []).entries()) {
    const bit = MPOL_FLAGS[f];
    if (bit === undefined) throw new ConfigError(`linux.memoryPolicy.flags[${i}]: invalid memory policy flag ${JSON.stringify(f)}`);
    flags |= bit;
  }
  const { mask, count } = mp.nodes?.trim() ? nodeMask(mp.nodes) : { mask: new Uint8Array(0), count: 0 };
  if ((mode === MPOL_MODES.MPOL_DEFAULT || mode === MPOL_MODES.MPOL_LOCAL) && count > 0) {
    throw new ConfigError(`linux.memoryPolicy.nodes: invalid memory policy: ${mp.mode} mode requires 0 nodes but got ${count}`);
  }
  return [{ op: "MEMPOLICY", args: [mode | flags, mask], origin: "linux.memoryPolicy" }];
}

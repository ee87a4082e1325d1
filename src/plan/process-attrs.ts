// process.ioPriority, process.scheduler, process.execCPUAffinity and linux.personality.
import { ConfigError } from "../errors.ts";
import type { PlanOp } from "../helper/protocol.ts";
import type { Spec } from "../spec/types.ts";

const IOPRIO_CLASSES: Record<string, number> = {
  IOPRIO_CLASS_RT: 1,
  IOPRIO_CLASS_BE: 2,
  IOPRIO_CLASS_IDLE: 3,
};

const SCHED_POLICIES: Record<string, number> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};

const SCHED_FLAGS: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

const PERSONALITY_DOMAINS: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };

/** "0-3,7" -> a cpu_set_t (1024 bits) as bytes. */
export function cpuSetBytes(list: string, where: string): Uint8Array {
  const set = new Uint8Array(128);
  for (const part of list.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
    if (!m || hi < lo || hi >= 1024) throw new ConfigError(`${where}: invalid CPU list ${JSON.stringify(list)}`);
    for (let cpu = lo; cpu <= hi; cpu++) set[cpu >> 3]! |= 1 << (cpu & 7);
  }
  return set;
}

/** Ops run in the init while it still has its privileges (before the user switch). */
export function planProcessAttributes(spec: Spec): PlanOp[] {
  const ops: PlanOp[] = [];
  const p = spec.process;
  const personality = spec.linux?.personality;
  if (personality) {
    const domain = PERSONALITY_DOMAINS[personality.domain];
    if (domain === undefined) throw new ConfigError(`linux.personality.domain: unknown domain ${JSON.stringify(personality.domain)}`);
    if (personality.flags?.length) throw new ConfigError("linux.personality.flags: no flags are defined for Linux");
    ops.push({ op: "PERSONALITY", args: [domain] });
  }
  if (p?.scheduler) {
    const s = p.scheduler;
    const policy = SCHED_POLICIES[s.policy];
    if (policy === undefined) throw new ConfigError(`process.scheduler.policy: unknown policy ${JSON.stringify(s.policy)}`);
    let flags = 0;
    for (const [i, f] of (s.flags ?? []).entries()) {
      const bit = SCHED_FLAGS[f];
      if (bit === undefined) throw new ConfigError(`process.scheduler.flags[${i}]: unknown flag ${JSON.stringify(f)}`);
      flags |= bit;
    }
    ops.push({ op: "SCHED", args: [policy, s.priority ?? 0, s.nice ?? 0, flags, s.runtime ?? 0, s.deadline ?? 0, s.period ?? 0] });
  }
  if (p?.ioPriority) {
    const cls = IOPRIO_CLASSES[p.ioPriority.class];
    if (cls === undefined) throw new ConfigError(`process.ioPriority.class: unknown class ${JSON.stringify(p.ioPriority.class)}`);
    const prio = p.ioPriority.priority ?? 0;
    if (prio < 0 || prio > 7) throw new ConfigError(`process.ioPriority.priority: must be 0-7 (got ${prio})`);
    ops.push({ op: "IOPRIO", args: [(cls << 13) | prio] });
  }
  return ops;
}

/** execCPUAffinity.final, applied by the init just before it execs. */
export function planFinalAffinity(spec: Spec): PlanOp[] {
  const final = spec.process?.execCPUAffinity?.final;
  return final ? [{ op: "AFFINITY", args: [cpuSetBytes(final, "process.execCPUAffinity.final")] }] : [];
}

/** execCPUAffinity.initial, applied by runts-init before it clones the init (empty: none). */
export function initialAffinity(spec: Spec): Uint8Array {
  const initial = spec.process?.execCPUAffinity?.initial;
  return initial ? cpuSetBytes(initial, "process.execCPUAffinity.initial") : new Uint8Array(0);
}

// linux.resources -> the cgroup files to write, for each driver (pure). One validated plan
// (runtime-spec semantics: 0 is "not set", -1 "unlimited"), mapped to v1 names and values
// (runc's libcontainer/cgroups/fs) or to v2 ones with runc's conversions (fs2).
import { ConfigError } from "../errors.ts";

/** One interface file to write: controller "cgroup" is the cgroup's own (v2) files. */
export interface CgroupWrite {
  field: string;
  controller: string;
  file: string;
  value: string;
}

export interface Resources {
  memory?: Record<string, number | boolean | undefined>;
  cpu?: Record<string, number | string | undefined>;
  pids?: { limit: number };
  blockIO?: {
    weight?: number;
    leafWeight?: number;
    weightDevice?: { major: number; minor: number; weight?: number; leafWeight?: number }[];
    throttleReadBpsDevice?: Throttle[];
    throttleWriteBpsDevice?: Throttle[];
    throttleReadIOPSDevice?: Throttle[];
    throttleWriteIOPSDevice?: Throttle[];
  };
  hugepageLimits?: { pageSize: string; limit: number; rsvd?: number }[];
  network?: { classID?: number; priorities?: { name: string; priority: number }[] };
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  unified?: Record<string, string>;
  devices?: unknown[];
}

interface Throttle {
  major: number;
  minor: number;
  rate: number;
}

const F = "linux.resources";

/** The linux.resources fields and their members (null: a list or map of their own). */
const KNOWN: Record<string, string[] | null> = {
  memory: ["limit", "reservation", "swap", "kernel", "kernelTCP", "swappiness", "disableOOMKiller", "useHierarchy", "checkBeforeUpdate"],
  cpu: ["shares", "quota", "burst", "period", "realtimeRuntime", "realtimePeriod", "cpus", "mems", "idle"],
  pids: ["limit"],
  blockIO: ["weight", "leafWeight", "weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice", "throttleWriteIOPSDevice"],
  hugepageLimits: null,
  network: ["classID", "priorities"],
  rdma: null,
  unified: null,
  devices: null,
};

/** The first field runts does not know ("cpu.foo", "\"bogus\""), or undefined. */
export function unknownResource(r: Record<string, unknown>): string | undefined {
  for (const [k, sub] of Object.entries(r)) {
    if (!(k in KNOWN)) return JSON.stringify(k);
    const keys = KNOWN[k];
    if (keys && sub && typeof sub === "object") for (const s of Object.keys(sub)) if (!keys.includes(s)) return `${k}.${s}`;
  }
  return undefined;
}

function int(v: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new ConfigError(`${field}: ${JSON.stringify(v)} is out of range (${min}..${max === Number.MAX_SAFE_INTEGER ? "2^53" : max})`);
  }
  return v;
}

/** A memory amount: -1 unlimited, 0 not set, else bytes. */
const amount = (v: unknown, field: string) => int(v, field, -1);
const LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;
const THROTTLES = [
  ["throttleReadBpsDevice", "read_bps", "rbps"],
  ["throttleWriteBpsDevice", "write_bps", "wbps"],
  ["throttleReadIOPSDevice", "read_iops", "riops"],
  ["throttleWriteIOPSDevice", "write_iops", "wiops"],
] as const;

/** The validated, driver-independent plan. */
export interface ResourcePlan {
  memory: { limit?: number; reservation?: number; swap?: number; swappiness?: number; disableOOMKiller?: boolean; useHierarchy?: boolean };
  cpu: { shares?: number; quota?: number; period?: number; burst?: number; idle?: number; rtRuntime?: number; rtPeriod?: number; cpus?: string; mems?: string };
  pids?: number;
  blkio: {
    weight?: number;
    leafWeight?: number;
    weightDevice: { major: number; minor: number; weight?: number; leafWeight?: number; i: number }[];
    throttle: { kind: (typeof THROTTLES)[number]; major: number; minor: number; rate: number; i: number }[];
  };
  hugepages: { pageSize: string; limit: number; rsvd?: number; i: number }[];
  network: { classID?: number; priorities: { name: string; priority: number }[] };
  rdma: { device: string; hcaHandles?: number; hcaObjects?: number }[];
  unified: [string, string][];
}

/** cgroup v2 interface files a config may not write: they move processes or change the tree. */
const UNIFIED_REFUSED = new Set(["cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "cgroup.kill", "cgroup.freeze", "cgroup.type"]);

export function planResources(r: Resources | undefined): ResourcePlan {
  const unknown = r && unknownResource(r as Record<string, unknown>);
  if (unknown) throw new ConfigError(`${F}: ${unknown} is not a resource runts knows`);
  const m = r?.memory ?? {};
  const c = r?.cpu ?? {};
  const b = r?.blockIO ?? {};
  const memory: ResourcePlan["memory"] = {
    limit: amount(m.limit, `${F}.memory.limit`),
    reservation: amount(m.reservation, `${F}.memory.reservation`),
    swap: amount(m.swap, `${F}.memory.swap`),
    swappiness: int(m.swappiness, `${F}.memory.swappiness`, 0, 100),
    disableOOMKiller: m.disableOOMKiller as boolean | undefined,
    useHierarchy: m.useHierarchy as boolean | undefined,
  };
  // kernel and kernelTCP: deprecated by the kernel, accepted and ignored (as runc 1.2+).
  amount(m.kernel, `${F}.memory.kernel`);
  amount(m.kernelTCP, `${F}.memory.kernelTCP`);
  if (memory.limit && memory.limit > 0 && memory.swap && memory.swap > 0 && memory.swap < memory.limit) {
    throw new ConfigError(`${F}.memory.swap: ${memory.swap} is below memory.limit ${memory.limit} (swap is memory+swap, as in cgroup v1)`);
  }
  for (const k of ["cpus", "mems"] as const) {
    const v = c[k];
    if (v !== undefined && (typeof v !== "string" || (v !== "" && !LIST.test(v)))) throw new ConfigError(`${F}.cpu.${k}: ${JSON.stringify(v)} is not a list like "0-3,6"`);
  }
  const cpu: ResourcePlan["cpu"] = {
    shares: int(c.shares, `${F}.cpu.shares`, 0),
    quota: int(c.quota, `${F}.cpu.quota`, -1),
    period: int(c.period, `${F}.cpu.period`, 0),
    burst: int(c.burst, `${F}.cpu.burst`, 0),
    idle: int(c.idle, `${F}.cpu.idle`, 0, 1),
    rtRuntime: int(c.realtimeRuntime, `${F}.cpu.realtimeRuntime`, -1),
    rtPeriod: int(c.realtimePeriod, `${F}.cpu.realtimePeriod`, 0),
    cpus: (c.cpus as string | undefined) || undefined,
    mems: (c.mems as string | undefined) || undefined,
  };
  const dev = (v: unknown, field: string) => int(v, field, 0, 0x7fffffff)!;
  const blkio: ResourcePlan["blkio"] = {
    weight: int(b.weight, `${F}.blockIO.weight`, 0, 1000) || undefined,
    leafWeight: int(b.leafWeight, `${F}.blockIO.leafWeight`, 0, 1000) || undefined,
    weightDevice: (b.weightDevice ?? []).map((d, i) => {
      const f = `${F}.blockIO.weightDevice[${i}]`;
      return { major: dev(d.major, `${f}.major`), minor: dev(d.minor, `${f}.minor`), weight: int(d.weight, `${f}.weight`, 10, 1000), leafWeight: int(d.leafWeight, `${f}.leafWeight`, 10, 1000), i };
    }),
    throttle: THROTTLES.flatMap((kind) =>
      (b[kind[0]] ?? []).map((t, i) => {
        const f = `${F}.blockIO.${kind[0]}[${i}]`;
        return { kind, major: dev(t.major, `${f}.major`), minor: dev(t.minor, `${f}.minor`), rate: int(t.rate, `${f}.rate`, 0)!, i };
      }),
    ),
  };
  for (const w of [blkio.weight, blkio.leafWeight]) {
    if (w !== undefined && w < 10) throw new ConfigError(`${F}.blockIO: weight ${w} is out of range (10..1000)`);
  }
  const hugepages = (r?.hugepageLimits ?? []).map((h, i) => {
    const f = `${F}.hugepageLimits[${i}]`;
    if (!/^[1-9][0-9]*[KMG]B$/.test(h.pageSize)) throw new ConfigError(`${f}.pageSize: ${JSON.stringify(h.pageSize)} is not like "2MB"`);
    return { pageSize: h.pageSize, limit: int(h.limit, `${f}.limit`, 0)!, rsvd: int(h.rsvd, `${f}.rsvd`, 0), i };
  });
  const network = {
    classID: int(r?.network?.classID, `${F}.network.classID`, 0, 0xffffffff),
    priorities: (r?.network?.priorities ?? []).map((p, i) => {
      if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(p.name)) throw new ConfigError(`${F}.network.priorities[${i}].name: ${JSON.stringify(p.name)} is not an interface name`);
      return { name: p.name, priority: int(p.priority, `${F}.network.priorities[${i}].priority`, 0, 0xffffffff)! };
    }),
  };
  const rdma = Object.entries(r?.rdma ?? {}).map(([device, v]) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(device)) throw new ConfigError(`${F}.rdma: ${JSON.stringify(device)} is not an RDMA device name`);
    return { device, hcaHandles: int(v.hcaHandles, `${F}.rdma.${device}.hcaHandles`, 0, 0xffffffff), hcaObjects: int(v.hcaObjects, `${F}.rdma.${device}.hcaObjects`, 0, 0xffffffff) };
  });
  const unified = Object.entries(r?.unified ?? {}).map(([k, v]): [string, string] => {
    const f = `${F}.unified[${JSON.stringify(k)}]`;
    if (!/^[a-z][a-z0-9_]*\.[a-z0-9_.]+$/.test(k) || k.includes("..")) throw new ConfigError(`${f}: not a cgroup interface file name (controller.name)`);
    if (UNIFIED_REFUSED.has(k)) throw new ConfigError(`${f}: runts manages this file itself`);
    if (typeof v !== "string" || v.includes("\n")) throw new ConfigError(`${f}: the value must be one line`);
    return [k, v];
  });
  const pids = int(r?.pids?.limit, `${F}.pids.limit`, Number.MIN_SAFE_INTEGER);
  return { memory, cpu, pids: pids === 0 ? undefined : pids, blkio, hugepages, network, rdma, unified };
}

const set = (v: number | undefined): v is number => v !== undefined && v !== 0;
const unlimitedV1 = (v: number) => String(v);
const maxV2 = (v: number) => (v < 0 ? "max" : String(v));

/** Files of the v1 hierarchies, in the order they must be written. */
export function v1Writes(p: ResourcePlan, has: (file: string, controller: string) => boolean): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  const w = (field: string, controller: string, file: string, value: string) => out.push({ field: `${F}.${field}`, controller, file, value });
  const m = p.memory;
  if (set(m.limit)) w("memory.limit", "memory", "memory.limit_in_bytes", unlimitedV1(m.limit));
  if (set(m.swap)) w("memory.swap", "memory", "memory.memsw.limit_in_bytes", unlimitedV1(m.swap));
  if (set(m.reservation)) w("memory.reservation", "memory", "memory.soft_limit_in_bytes", unlimitedV1(m.reservation));
  if (m.swappiness !== undefined) w("memory.swappiness", "memory", "memory.swappiness", String(m.swappiness));
  if (m.disableOOMKiller) w("memory.disableOOMKiller", "memory", "memory.oom_control", "1");
  if (m.useHierarchy !== undefined) w("memory.useHierarchy", "memory", "memory.use_hierarchy", m.useHierarchy ? "1" : "0");
  const c = p.cpu;
  if (set(c.shares)) w("cpu.shares", "cpu", "cpu.shares", String(c.shares));
  if (set(c.period)) w("cpu.period", "cpu", "cpu.cfs_period_us", String(c.period));
  if (set(c.quota)) w("cpu.quota", "cpu", "cpu.cfs_quota_us", String(c.quota));
  if (c.burst !== undefined) w("cpu.burst", "cpu", "cpu.cfs_burst_us", String(c.burst));
  if (c.idle !== undefined) w("cpu.idle", "cpu", "cpu.idle", String(c.idle));
  if (set(c.rtPeriod)) w("cpu.realtimePeriod", "cpu", "cpu.rt_period_us", String(c.rtPeriod));
  if (set(c.rtRuntime)) w("cpu.realtimeRuntime", "cpu", "cpu.rt_runtime_us", String(c.rtRuntime));
  if (c.cpus) w("cpu.cpus", "cpuset", "cpuset.cpus", c.cpus);
  if (c.mems) w("cpu.mems", "cpuset", "cpuset.mems", c.mems);
  if (p.pids !== undefined) w("pids.limit", "pids", "pids.max", p.pids < 0 ? "max" : String(p.pids));
  // The weight files: CFQ's blkio.weight, or BFQ's blkio.bfq.weight where CFQ is gone (as runc).
  const bfq = !has("blkio.weight", "blkio");
  const b = p.blkio;
  if (b.weight) w("blockIO.weight", "blkio", bfq ? "blkio.bfq.weight" : "blkio.weight", String(b.weight));
  if (b.leafWeight) w("blockIO.leafWeight", "blkio", "blkio.leaf_weight", String(b.leafWeight));
  for (const d of b.weightDevice) {
    if (d.weight !== undefined) w(`blockIO.weightDevice[${d.i}]`, "blkio", bfq ? "blkio.bfq.weight_device" : "blkio.weight_device", `${d.major}:${d.minor} ${d.weight}`);
    if (d.leafWeight !== undefined) w(`blockIO.weightDevice[${d.i}]`, "blkio", "blkio.leaf_weight_device", `${d.major}:${d.minor} ${d.leafWeight}`);
  }
  for (const t of b.throttle) w(`blockIO.${t.kind[0]}[${t.i}]`, "blkio", `blkio.throttle.${t.kind[1]}_device`, `${t.major}:${t.minor} ${t.rate}`);
  for (const h of p.hugepages) {
    w(`hugepageLimits[${h.i}]`, "hugetlb", `hugetlb.${h.pageSize}.limit_in_bytes`, String(h.limit));
    if (h.rsvd !== undefined) w(`hugepageLimits[${h.i}].rsvd`, "hugetlb", `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`, String(h.rsvd));
  }
  if (p.network.classID !== undefined) w("network.classID", "net_cls", "net_cls.classid", String(p.network.classID));
  for (const [i, n] of p.network.priorities.entries()) w(`network.priorities[${i}]`, "net_prio", "net_prio.ifpriomap", `${n.name} ${n.priority}`);
  for (const r of p.rdma) w(`rdma.${r.device}`, "rdma", "rdma.max", rdmaValue(r));
  if (p.unified.length) throw new ConfigError(`${F}.unified: needs cgroup v2 (this host has v1 controllers)`);
  return out;
}

function rdmaValue(r: ResourcePlan["rdma"][number]): string {
  return [r.device, r.hcaHandles !== undefined && `hca_handle=${r.hcaHandles}`, r.hcaObjects !== undefined && `hca_object=${r.hcaObjects}`].filter(Boolean).join(" ");
}

/**
 * cpu.shares [2..262144] -> cpu.weight [1..10000], as current runc (1.3.2+, 1.4) and crun:
 * 1024 (the v1 default) maps to 100 (the v2 default). runc 1.1.5's linear formula gave 39.
 */
export function cpuWeight(shares: number): number {
  const l = Math.log2(Math.min(262144, Math.max(2, shares)));
  return Math.ceil(Math.pow(10, (l * l + 125 * l) / 612 - 7 / 34));
}

/** The runtime-spec's memory.swap is memory+swap (v1); memory.swap.max is swap alone. */
export function swapMax(limit: number | undefined, swap: number | undefined): string | undefined {
  if (!set(swap)) return limit === -1 ? "max" : undefined;
  if (swap === -1) return "max";
  if (!set(limit) || limit < 0) throw new ConfigError(`${F}.memory.swap: needs memory.limit on cgroup v2 (swap is memory+swap)`);
  return String(swap - limit);
}

/** blkio.weight [10..1000] -> io.weight [1..10000] (runc's fs2). */
export const ioWeight = (w: number): number => 1 + Math.floor(((w - 10) * 9999) / 990);

/** Files of the container's v2 cgroup, in the order they must be written. */
export function v2Writes(p: ResourcePlan, has: (file: string, controller: string) => boolean): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  const w = (field: string, controller: string, file: string, value: string) => out.push({ field: `${F}.${field}`, controller, file, value });
  const refuse = (field: string, why: string) => {
    throw new ConfigError(`${F}.${field}: ${why}`);
  };
  const m = p.memory;
  const swap = swapMax(m.limit, m.swap);
  if (swap !== undefined) w("memory.swap", "memory", "memory.swap.max", swap);
  if (set(m.limit)) w("memory.limit", "memory", "memory.max", maxV2(m.limit));
  if (set(m.reservation)) w("memory.reservation", "memory", "memory.low", maxV2(m.reservation));
  if (m.swappiness !== undefined) refuse("memory.swappiness", "cgroup v2 has no per-cgroup swappiness");
  if (m.disableOOMKiller) refuse("memory.disableOOMKiller", "cgroup v2 cannot disable the OOM killer");
  if (m.useHierarchy === false) refuse("memory.useHierarchy", "cgroup v2 is always hierarchical");
  const c = p.cpu;
  if (set(c.shares)) w("cpu.shares", "cpu", "cpu.weight", String(cpuWeight(c.shares)));
  if (set(c.quota) || set(c.period)) {
    w(set(c.quota) ? "cpu.quota" : "cpu.period", "cpu", "cpu.max", `${set(c.quota) && c.quota > 0 ? c.quota : "max"}${set(c.period) ? ` ${c.period}` : ""}`);
  }
  if (c.burst !== undefined) w("cpu.burst", "cpu", "cpu.max.burst", String(c.burst));
  if (c.idle !== undefined) w("cpu.idle", "cpu", "cpu.idle", String(c.idle));
  if (set(c.rtPeriod) || set(c.rtRuntime)) refuse(set(c.rtPeriod) ? "cpu.realtimePeriod" : "cpu.realtimeRuntime", "realtime scheduling limits are cgroup v1 only");
  if (c.cpus) w("cpu.cpus", "cpuset", "cpuset.cpus", c.cpus);
  if (c.mems) w("cpu.mems", "cpuset", "cpuset.mems", c.mems);
  if (p.pids !== undefined) w("pids.limit", "pids", "pids.max", maxV2(p.pids));
  const b = p.blkio;
  const bfq = has("io.bfq.weight", "io");
  if (b.weight) w("blockIO.weight", "io", bfq ? "io.bfq.weight" : "io.weight", String(bfq ? b.weight : ioWeight(b.weight)));
  if (b.leafWeight) refuse("blockIO.leafWeight", "cgroup v2 has no leaf weight");
  for (const d of b.weightDevice) {
    if (d.leafWeight !== undefined) refuse(`blockIO.weightDevice[${d.i}].leafWeight`, "cgroup v2 has no leaf weight");
    if (d.weight !== undefined) w(`blockIO.weightDevice[${d.i}]`, "io", bfq ? "io.bfq.weight" : "io.weight", `${d.major}:${d.minor} ${bfq ? d.weight : ioWeight(d.weight)}`);
  }
  for (const t of b.throttle) w(`blockIO.${t.kind[0]}[${t.i}]`, "io", "io.max", `${t.major}:${t.minor} ${t.kind[2]}=${t.rate}`);
  for (const h of p.hugepages) {
    w(`hugepageLimits[${h.i}]`, "hugetlb", `hugetlb.${h.pageSize}.max`, String(h.limit));
    if (h.rsvd !== undefined) w(`hugepageLimits[${h.i}].rsvd`, "hugetlb", `hugetlb.${h.pageSize}.rsvd.max`, String(h.rsvd));
  }
  if (p.network.classID !== undefined || p.network.priorities.length) refuse("network", "net_cls and net_prio are cgroup v1 controllers");
  for (const r of p.rdma) w(`rdma.${r.device}`, "rdma", "rdma.max", rdmaValue(r));
  for (const [k, v] of p.unified) {
    const ctrl = k.slice(0, k.indexOf("."));
    w(`unified[${JSON.stringify(k)}]`, ctrl, k, v);
  }
  return out;
}

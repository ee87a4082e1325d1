// `events --stats`: a container's cgroup statistics in runc's JSON shape (libcontainer's
// cgroups.Stats: the same field names, and Go's omitempty where runc has it). The parsers
// take a file reader, so they are tested on fixture text.
import type { CgroupPaths } from "./driver.ts";

export type Read = (path: string) => string | undefined;

const U64_MAX = 2n ** 64n - 1n;

/** A counter or limit: exact beyond 2^53 (as a bigint), "max" as u64 max (what runc reports). */
const num = (s: string | undefined): number => {
  const t = s?.trim() ?? "";
  if (t === "max") return U64_MAX as unknown as number;
  if (!/^-?\d+$/.test(t)) return 0;
  const n = Number(t);
  return (Number.isSafeInteger(n) ? n : BigInt(t)) as number;
};

/** JSON with bigints written as exact integers (Go decodes them into uint64). */
export function statsJson(v: unknown): string {
  return JSON.stringify(v, (_, x) => (typeof x === "bigint" ? `@@${x}@@` : x)).replace(/"@@(\d+)@@"/g, "$1");
}

/** "key value" lines (memory.stat, cpu.stat, pids.events) as a map. */
export function keyValues(text: string | undefined): Record<string, number> {
  const pairs: [string, number][] = [];
  for (const line of (text ?? "").split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) pairs.push([k, num(v)]);
  }
  // Sorted, as Go writes a map.
  return Object.fromEntries(pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** "0-2,5" -> [0, 1, 2, 5]. */
export function cpuList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? "").trim().split(",").filter(Boolean)) {
    const [a, b] = part.split("-").map(Number);
    for (let i = a!; i <= (b ?? a!); i++) out.push(i);
  }
  return out;
}

/** Drops the keys whose value is 0 or empty (Go's omitempty). */
function omitEmpty<T extends Record<string, unknown>>(o: T, keys: (keyof T)[]): T {
  for (const k of keys) {
    const v = o[k];
    if (v === 0 || v === 0n || v === undefined || (Array.isArray(v) && !v.length)) delete o[k];
  }
  return o;
}

function memoryEntry(read: Read, dir: string, prefix: string, withUsage = true): Record<string, number> {
  const e: Record<string, number> = { limit: num(read(`${dir}/${prefix}.limit_in_bytes`)) };
  if (withUsage) {
    e.usage = num(read(`${dir}/${prefix}.usage_in_bytes`));
    e.max = num(read(`${dir}/${prefix}.max_usage_in_bytes`));
  }
  e.failcnt = num(read(`${dir}/${prefix}.failcnt`));
  return omitEmpty(e, ["usage", "max"]);
}

function blkioEntries(text: string | undefined): { major: number; minor: number; op: string; value: number }[] {
  const out: { major: number; minor: number; op: string; value: number }[] = [];
  for (const line of (text ?? "").split("\n")) {
    const m = /^(\d+):(\d+) (\S+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
  }
  return out;
}

const USER_HZ_NS = 1e7; // cpuacct.stat counts USER_HZ (100) ticks

export function v1Stats(p: CgroupPaths, read: Read): Record<string, unknown> {
  const v1 = p.cgroupV1 ?? {};
  const acct = v1.cpuacct;
  const split = (s: string | undefined) => (s ?? "").trim().split(/\s+/).filter(Boolean).map(Number);
  const acctStat = keyValues(acct && read(`${acct}/cpuacct.stat`));
  const cpuStat = keyValues(v1.cpu && read(`${v1.cpu}/cpu.stat`));
  const cpu = {
    usage: omitEmpty(
      {
        total: num(acct && read(`${acct}/cpuacct.usage`)),
        percpu: split(acct && read(`${acct}/cpuacct.usage_percpu`)),
        percpu_kernel: split(acct && read(`${acct}/cpuacct.usage_percpu_sys`)),
        percpu_user: split(acct && read(`${acct}/cpuacct.usage_percpu_user`)),
        kernel: (acctStat.system ?? 0) * USER_HZ_NS,
        user: (acctStat.user ?? 0) * USER_HZ_NS,
      },
      ["total", "percpu", "percpu_kernel", "percpu_user"],
    ),
    throttling: omitEmpty({ periods: cpuStat.nr_periods ?? 0, throttled_periods: cpuStat.nr_throttled ?? 0, throttled_time: cpuStat.throttled_time ?? 0 }, ["periods", "throttled_periods", "throttled_time"]),
  };
  const cs = v1.cpuset;
  const flag = (f: string) => num(cs && read(`${cs}/cpuset.${f}`));
  const cpuset = {
    cpus: cpuList(cs && read(`${cs}/cpuset.cpus`)),
    cpu_exclusive: flag("cpu_exclusive"),
    mems: cpuList(cs && read(`${cs}/cpuset.mems`)),
    mem_hardwall: flag("mem_hardwall"),
    mem_exclusive: flag("mem_exclusive"),
    memory_migrate: flag("memory_migrate"),
    memory_spread_page: flag("memory_spread_page"),
    memory_spread_slab: flag("memory_spread_slab"),
    memory_pressure: flag("memory_pressure"),
    sched_load_balance: flag("sched_load_balance"),
    sched_relax_domain_level: flag("sched_relax_domain_level"),
  };
  const m = v1.memory;
  const raw = keyValues(m && read(`${m}/memory.stat`));
  const memory = m
    ? omitEmpty(
        {
          cache: raw.cache ?? 0,
          usage: memoryEntry(read, m, "memory"),
          swap: memoryEntry(read, m, "memory.memsw"),
          kernel: memoryEntry(read, m, "memory.kmem"),
          kernelTCP: memoryEntry(read, m, "memory.kmem.tcp", false),
          raw,
        },
        ["cache"],
      )
    : {};
  const pd = v1.pids;
  const pids = omitEmpty({ current: num(pd && read(`${pd}/pids.current`)), limit: pd && read(`${pd}/pids.max`)?.trim() === "max" ? 0 : num(pd && read(`${pd}/pids.max`)) }, ["current", "limit"]);
  const bk = v1.blkio;
  const blkio: Record<string, unknown> = {};
  if (bk) {
    const bytes = blkioEntries(read(`${bk}/blkio.throttle.io_service_bytes_recursive`));
    const ios = blkioEntries(read(`${bk}/blkio.throttle.io_serviced_recursive`));
    if (bytes.length) blkio.io_service_bytes_recursive = bytes;
    if (ios.length) blkio.io_serviced_recursive = ios;
  }
  return { cpu, cpuset, memory, pids, blkio, hugetlb: {}, intel_rdt: {}, network_interfaces: null };
}

function sumU64(a: number, b: number): number {
  const s = BigInt(a) + BigInt(b);
  return (s > U64_MAX ? U64_MAX : Number.isSafeInteger(Number(s)) ? Number(s) : s) as number;
}

export function v2Stats(p: CgroupPaths, read: Read): Record<string, unknown> {
  const d = p.cgroupDir;
  const cpuStat = keyValues(read(`${d}/cpu.stat`));
  const cpu = {
    usage: omitEmpty({ total: (cpuStat.usage_usec ?? 0) * 1000, kernel: (cpuStat.system_usec ?? 0) * 1000, user: (cpuStat.user_usec ?? 0) * 1000 }, ["total"]),
    throttling: omitEmpty({ periods: cpuStat.nr_periods ?? 0, throttled_periods: cpuStat.nr_throttled ?? 0, throttled_time: (cpuStat.throttled_usec ?? 0) * 1000 }, ["periods", "throttled_periods", "throttled_time"]),
  };
  const raw = keyValues(read(`${d}/memory.stat`));
  const usage = num(read(`${d}/memory.current`));
  const limit = num(read(`${d}/memory.max`));
  const events = keyValues(read(`${d}/memory.events`));
  const swapUsage = num(read(`${d}/memory.swap.current`));
  const swapLimit = num(read(`${d}/memory.swap.max`));
  const memory = omitEmpty(
    {
      cache: raw.file ?? 0,
      usage: omitEmpty({ limit, usage, max: num(read(`${d}/memory.peak`)), failcnt: events.max ?? 0 }, ["usage", "max"]),
      swap: omitEmpty({ limit: sumU64(swapLimit, limit), usage: swapUsage + usage, failcnt: 0 }, ["usage"]),
      kernel: { limit: 0, failcnt: 0 },
      kernelTCP: { limit: 0, failcnt: 0 },
      raw,
    },
    ["cache"],
  );
  const pmax = read(`${d}/pids.max`)?.trim();
  const pids = omitEmpty({ current: num(read(`${d}/pids.current`)), limit: pmax === "max" ? 0 : num(pmax) }, ["current", "limit"]);
  const cpuset = { cpus: cpuList(read(`${d}/cpuset.cpus.effective`)), mems: cpuList(read(`${d}/cpuset.mems.effective`)) };
  return { cpu, cpuset, memory, pids, blkio: {}, hugetlb: {}, intel_rdt: {}, network_interfaces: null };
}

/** OOM kills so far: v1 memory.oom_control's oom_kill, v2 memory.events' oom_kill. */
export function oomKills(p: CgroupPaths, read: Read): number {
  const m = p.cgroupV1?.memory;
  return keyValues(m ? read(`${m}/memory.oom_control`) : read(`${p.cgroupDir}/memory.events`)).oom_kill ?? 0;
}

/**
 * What linux.seccomp costs `create`: podman's default profile (/usr/share/containers/
 * seccomp.json, converted as podman does) against no profile, runts against runc, in the
 * same run, interleaved. runts is measured twice with the profile: "cold" (its cache of
 * compiled filters emptied before every create: libseccomp compiles the profile) and
 * "warm" (the filter compiled by an earlier create, as for every container a manager
 * starts after the first).
 *
 *   sudo node_modules/.bin/bun bench/seccomp.ts          BENCH_RUNS (default 20)
 *
 * Each sample is one `create`: wall time, and CPU time (user+sys, less disturbed by a busy
 * machine); the container is deleted before the next sample. Prints medians, and the cost.
 */
import { spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeBundle } from "../test/lib/rootfs.ts";
import { podmanSeccomp } from "../test/lib/seccomp-profiles.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const RUNTIMES = { runts: path.join(REPO, "dist/runts"), runc: "/usr/sbin/runc" } as const;
const root = (rt: string) => `/run/bench-seccomp-${rt}-${process.pid}`;

const plain = makeBundle({ rootfs: "shared", config: (c) => (c.process.args = ["/bin/true"]) });
const profiled = makeBundle({
  rootfs: "shared",
  config: (c) => {
    c.process.args = ["/bin/true"];
    c.linux.seccomp = podmanSeccomp(c.process.capabilities.bounding);
  },
});

type Case = { name: string; rt: keyof typeof RUNTIMES; bundle: string; cold?: boolean };
const cases: Case[] = [
  { name: "runc, no profile", rt: "runc", bundle: plain.dir },
  { name: "runc, podman profile", rt: "runc", bundle: profiled.dir },
  { name: "runts, no profile", rt: "runts", bundle: plain.dir },
  { name: "runts, podman profile (cold: compiled)", rt: "runts", bundle: profiled.dir, cold: true },
  { name: "runts, podman profile (warm: cached)", rt: "runts", bundle: profiled.dir },
];

const errFile = `/tmp/bench-seccomp-${process.pid}.err`;
let n = 0;
function createMs(c: Case): { wall: number; cpu: number } {
  const id = `bench-sc-${process.pid}-${n++}`;
  if (c.cold) rmSync(path.join(root(c.rt), ".seccomp"), { recursive: true, force: true });
  const t0 = performance.now();
  // stderr is a file, not a pipe: the created container's init inherits it.
  const err = openSync(errFile, "w");
  let r;
  try {
    r = Bun.spawnSync([RUNTIMES[c.rt], "--root", root(c.rt), "create", "--bundle", c.bundle, id], { stdio: ["ignore", "ignore", err] });
  } finally {
    closeSync(err);
  }
  const wall = performance.now() - t0;
  spawnSync(RUNTIMES[c.rt], ["--root", root(c.rt), "delete", "--force", id], { stdio: "ignore" });
  if (r.exitCode !== 0) throw new Error(`${c.name}: create failed: ${readFileSync(errFile, "utf8")}`);
  const cpu = r.resourceUsage!.cpuTime;
  return { wall, cpu: Number(cpu.user + cpu.system) / 1000 };
}

const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
const cpuSamples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
try {
  for (const c of cases) createMs(c); // warm-up (and the warm case's cache entry)
  for (let i = 0; i < RUNS; i++) {
    for (const c of cases) {
      const m = createMs(c);
      samples.get(c.name)!.push(m.wall);
      cpuSamples.get(c.name)!.push(m.cpu);
    }
  }
} finally {
  for (const rt of Object.keys(RUNTIMES)) rmSync(root(rt), { recursive: true, force: true });
  plain.cleanup();
  profiled.cleanup();
  rmSync(errFile, { force: true });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const stat = (name: string) => ({ median: median(samples.get(name)!), mean: mean(samples.get(name)!), cpu: median(cpuSamples.get(name)!) });
console.log(`create, ${RUNS} runs each (ms; cpu: user+sys of the runtime process and the children it waited for)`);
for (const c of cases) {
  const s = stat(c.name);
  console.log(`  ${c.name.padEnd(42)} wall median ${s.median.toFixed(1).padStart(6)}  mean ${s.mean.toFixed(1).padStart(6)}  cpu median ${s.cpu.toFixed(1).padStart(6)}`);
}
const cost = (withP: string, without: string) => {
  const a = stat(withP);
  const b = stat(without);
  return `+${(a.median - b.median).toFixed(1)} wall, +${(a.cpu - b.cpu).toFixed(1)} cpu`;
};
console.log("profile cost (medians, ms):");
console.log(`  runc        ${cost("runc, podman profile", "runc, no profile")}`);
console.log(`  runts warm  ${cost("runts, podman profile (warm: cached)", "runts, no profile")}`);
console.log(`  runts cold  ${cost("runts, podman profile (cold: compiled)", "runts, no profile")}`);

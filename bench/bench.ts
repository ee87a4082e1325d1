/**
 * runts vs runc (vs crun) on the same machine, in the same run, with ratios.
 *
 * Run through bench/run.sh (`npm run bench`) as root; bench/vm.sh runs it in the pure
 * cgroup v2 qemu guest, where crun works too. Every iteration runs each scenario for every
 * runtime in turn (runts, runc, crun, runts, ...), so machine noise hits all of them alike.
 *
 * Scenarios (each runtime has its own --root /run/bench-<runtime>-<pid> and its own bundle):
 *   csd        the issue's create -> start -> delete: the sum of those three steps of lifecycle
 *   lifecycle  create -> start -> kill KILL -> delete --force of `sleep 1000`, as one wall
 *              time and step by step (kill first: runc's delete --force of a *running*
 *              container sleeps 100 ms before it looks again, which is measured separately)
 *   run        foreground `run` of /bin/true
 *   memory     `create` under /usr/bin/time (peak RSS of the runtime process), `state`
 *              (timed), `start`, `exec ID /bin/true` (timed), the container cgroup's memory.peak (cgroup v2 with the
 *              memory controller only), then `delete --force` of the running container (timed)
 *   version    `<runtime> --version` (process startup cost)
 *
 * Env: BENCH_RUNS (default 20), BENCH_WARMUP (default 3), BENCH_TIMEOUT_MS (per command),
 * RUNTS_BIN (default dist/runts; snapshotted into the work dir so a rebuild mid-run does not
 * mix binaries), RUN_IN_VM=1 (set by run-in-vm.sh: results go to latest-vm.json),
 * BENCH_USERNS=1 (every container in a new user namespace mapping 0..65535 to host 100000..,
 * its rootfs owned by 100000: results go to latest-<where>-userns.json).
 *
 * Child processes never get pipes (a detached container would inherit the write end and
 * spawnSync would wait for it forever): stdin/stdout are /dev/null, stderr is a file.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const IN_VM = process.env.RUN_IN_VM === "1";
const USERNS = process.env.BENCH_USERNS === "1";
const WHERE = (IN_VM ? "vm" : "host") + (USERNS ? "-userns" : "");
const USERNS_BASE = 100000;
const RUNS = intEnv("BENCH_RUNS", 20, 1);
const WARMUP = intEnv("BENCH_WARMUP", 3, 0);
const TIMEOUT_MS = intEnv("BENCH_TIMEOUT_MS", IN_VM ? 120_000 : 30_000, 1_000);
/** A runtime that fails a scenario this many times in a row is not asked again. */
const GIVE_UP_AFTER = 3;
/** Prefix of every container id and cgroup we create: ours alone, safe to sweep. */
const TAG = `runts-bench-${process.pid}`;
/** crun 1.8.1 rejects any ociVersion without "1.0" ("unknown version specified"); runts and
 *  runc accept this one, so every runtime gets the same config. */
const OCI_VERSION = "1.0.2-dev";

type RuntimeName = "runts" | "runc" | "crun";

interface Runtime {
  name: RuntimeName;
  bin: string;
  /** --root: the runtime's state directory. */
  root: string;
  /** Bundle directory (its config.json is rewritten before each container). */
  bundle: string;
}

type MetricKey =
  | "csd"
  | "lifecycle"
  | "create"
  | "start"
  | "kill"
  | "delete"
  | "run"
  | "exec"
  | "rss"
  | "cgpeak"
  | "version"
  | "state"
  | "forcedelete";

/** The parts of config.json the benchmark sets; the rest is passed through untouched. */
interface OciConfig {
  ociVersion: string;
  process: { terminal: boolean; args: string[]; [k: string]: unknown };
  root: { path: string; readonly: boolean };
  linux: { cgroupsPath?: string; [k: string]: unknown };
  [k: string]: unknown;
}

interface MetricDef {
  key: MetricKey;
  label: string;
  unit: "ms" | "MiB";
  /** Set when the metric cannot be measured at all here (printed instead of numbers). */
  na?: string;
}

/** Samples (or failures) of one metric for one runtime. */
class Series {
  readonly values: number[] = [];
  failures = 0;
  consecutive = 0;
  firstError: string | undefined;

  add(v: number): void {
    this.values.push(v);
    this.consecutive = 0;
  }

  fail(error: string): void {
    this.failures++;
    this.consecutive++;
    this.firstError ??= error;
  }

  get gaveUp(): boolean {
    return this.consecutive >= GIVE_UP_AFTER;
  }
}

interface CmdResult {
  ok: boolean;
  ms: number;
  /** "<argv>: exit N: <stderr>" when !ok. */
  error: string;
}

interface Cgroups {
  mode: "v2" | "hybrid" | "v1";
  /** cgroup2 mount whose children get linux.cgroupsPath, when memory.peak is readable there. */
  peakRoot: string | undefined;
  /** Why memory.peak is not measured, when peakRoot is undefined. */
  peakNa: string;
}

function intEnv(name: string, dflt: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}=${raw}: expected an integer >= ${min}`);
  return n;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/* ------------------------------------------------------------------ commands */

class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

let interrupted: NodeJS.Signals | undefined;

/** Bun runs signal handlers only from its event loop, which spawnSync blocks: yield to it
 *  between commands, then stop (cleaning up) if a signal came in. */
async function checkpoint(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  if (interrupted) throw new Interrupted(interrupted);
}

let workDir = "";

/** Runs argv with stdin/stdout on /dev/null and stderr in a file; wall time in ms. */
function exec(argv: readonly string[]): CmdResult {
  const errFile = path.join(workDir, "stderr");
  const errFd = openSync(errFile, "w");
  let r: SpawnSyncReturns<Buffer>;
  const t0 = performance.now();
  try {
    r = spawnSync(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", errFd], timeout: TIMEOUT_MS, killSignal: "SIGKILL" });
  } finally {
    closeSync(errFd); // the child (and a detached container) keep their own copies
  }
  const ms = performance.now() - t0;
  if (r.status === 0 && !r.error) return { ok: true, ms, error: "" };
  let why: string;
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ETIMEDOUT") why = `timed out after ${TIMEOUT_MS} ms`;
  else if (r.error) why = r.error.message;
  else if (r.signal) why = `killed by ${r.signal}`;
  else why = `exit ${r.status}`;
  const stderr = readFileSync(errFile, "utf8").trim().split("\n").slice(0, 6).join(" | ");
  return { ok: false, ms, error: `\`${argv.join(" ")}\`: ${why}${stderr ? `: ${stderr}` : ""}` };
}

function rt(r: Runtime, ...args: string[]): CmdResult {
  return exec([r.bin, "--root", r.root, ...args]);
}

/* ------------------------------------------------------------------ setup */

function detectCgroups(): Cgroups {
  const cg2 = cgroupMounts().filter((m) => m.type === "cgroup2");
  const v1 = cgroupMounts().some((m) => m.type === "cgroup");
  const pure = cg2.find((m) => m.dir === "/sys/fs/cgroup");
  const mode: Cgroups["mode"] = pure && !v1 ? "v2" : cg2.length ? "hybrid" : "v1";
  if (mode !== "v2") return { mode, peakRoot: undefined, peakNa: `n/a (${mode} cgroups: no cgroup v2 memory controller)` };
  const ctl = readFileSync("/sys/fs/cgroup/cgroup.subtree_control", "utf8").split(/\s+/);
  if (!ctl.includes("memory")) return { mode, peakRoot: undefined, peakNa: "n/a (memory controller not enabled at the cgroup root)" };
  return { mode, peakRoot: "/sys/fs/cgroup", peakNa: "" };
}

function cgroupMounts(): { dir: string; type: string }[] {
  const out: { dir: string; type: string }[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const type = line.slice(sep + 3).split(" ")[0]!;
    if (type === "cgroup" || type === "cgroup2") out.push({ dir: unescapeMount(line.split(" ")[4]!), type });
  }
  return out;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-3][0-7]{2})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** A read-only busybox rootfs: /bin/busybox plus the applets the scenarios use. */
function makeRootfs(dir: string): void {
  for (const d of ["bin", "proc", "sys", "dev", "tmp", "etc", "root", "run"]) mkdirSync(path.join(dir, d), { recursive: true });
  copyFileSync("/bin/busybox", path.join(dir, "bin/busybox"));
  chmodSync(path.join(dir, "bin/busybox"), 0o755);
  for (const a of ["sh", "sleep", "true"]) symlinkSync("busybox", path.join(dir, "bin", a));
  if (USERNS) {
    const r = spawnSync("chown", ["-R", "-h", `${USERNS_BASE}:${USERNS_BASE}`, dir]);
    if (r.status !== 0) throw new Error(`chown -R ${dir} failed`);
  }
}

/** config.json from `runts spec` (runc spec if that fails), adjusted for the benchmark. */
function baseConfig(runtsBin: string): { config: OciConfig; source: string } {
  const dir = path.join(workDir, "spec");
  mkdirSync(dir);
  let source = "runts spec";
  let r = exec([runtsBin, "spec", "--bundle", dir]);
  if (!r.ok) {
    console.error(`bench: ${r.error}; using \`runc spec\` instead`);
    source = "runc spec (runts spec failed)";
    r = exec(["runc", "spec", "--bundle", dir]);
    if (!r.ok) throw new Error(r.error);
  }
  const config = JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8")) as OciConfig;
  if (typeof config.process !== "object" || config.process === null) throw new Error(`${source} wrote no process section`);
  config.ociVersion = OCI_VERSION;
  config.process.terminal = false;
  config.root = { path: path.join(workDir, "rootfs"), readonly: true };
  config.linux ??= {};
  if (USERNS) {
    const range = [{ containerID: 0, hostID: USERNS_BASE, size: 65536 }];
    config.linux.namespaces = [...((config.linux.namespaces as object[] | undefined) ?? []), { type: "user" }];
    config.linux.uidMappings = range;
    config.linux.gidMappings = range;
  }
  return { config, source };
}

function writeConfig(r: Runtime, base: OciConfig, args: string[], cgroupsPath: string): void {
  const c = structuredClone(base);
  c.process.args = args;
  c.linux.cgroupsPath = cgroupsPath;
  writeFileSync(path.join(r.bundle, "config.json"), JSON.stringify(c, null, 2));
}

/** crun refuses hybrid hosts although `crun list` works there: probe with a real `run`. */
function probeCrun(base: OciConfig): string | undefined {
  const probe: Runtime = { name: "crun", bin: "crun", root: `/run/bench-crun-probe-${process.pid}`, bundle: path.join(workDir, "crun-probe") };
  mkdirSync(probe.bundle);
  try {
    const list = rt(probe, "list");
    if (!list.ok) return `crun list fails (not installed?): ${list.error}`;
    if (!IN_VM) {
      writeConfig(probe, base, ["/bin/true"], `/${TAG}-crun-probe`);
      const run = rt(probe, "run", "--bundle", probe.bundle, `${TAG}-crun-probe`);
      if (!run.ok) return `crun cannot run containers here: ${run.error}`;
    }
    return undefined;
  } finally {
    rt(probe, "delete", "--force", `${TAG}-crun-probe`);
    rmSync(probe.root, { recursive: true, force: true });
    rmSync(probe.bundle, { recursive: true, force: true });
  }
}

function versionLine(bin: string): string {
  const r = spawnSync(bin, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: TIMEOUT_MS });
  return (r.stdout ?? "").split("\n")[0]?.trim() || "?";
}

/* ------------------------------------------------------------------ scenarios */

const METRICS: MetricDef[] = [
  { key: "csd", label: "create+start+delete (ms)", unit: "ms" },
  { key: "lifecycle", label: "create+start+kill+delete (ms)", unit: "ms" },
  { key: "create", label: "  create (ms)", unit: "ms" },
  { key: "start", label: "  start (ms)", unit: "ms" },
  { key: "kill", label: "  kill KILL (ms)", unit: "ms" },
  { key: "delete", label: "  delete --force, stopped (ms)", unit: "ms" },
  { key: "run", label: "run /bin/true (ms)", unit: "ms" },
  { key: "exec", label: "exec ID /bin/true (ms)", unit: "ms" },
  { key: "rss", label: "peak RSS of `create` (MiB)", unit: "MiB" },
  { key: "cgpeak", label: "container memory.peak (MiB)", unit: "MiB" },
  { key: "version", label: "--version (ms)", unit: "ms" },
  { key: "state", label: "state (ms)", unit: "ms" },
  { key: "forcedelete", label: "delete --force, running (ms)", unit: "ms" },
];

class Bench {
  readonly series = new Map<MetricKey, Map<RuntimeName, Series>>();
  /** Harness overhead: spawnSync of /bin/true, once per iteration. */
  readonly spawnTrue: number[] = [];
  measuring = false;

  constructor(
    readonly runtimes: Runtime[],
    readonly base: OciConfig,
    readonly cg: Cgroups,
  ) {
    for (const m of METRICS) this.series.set(m.key, new Map(runtimes.map((r) => [r.name, new Series()])));
  }

  s(key: MetricKey, r: Runtime): Series {
    return this.series.get(key)!.get(r.name)!;
  }

  record(key: MetricKey, r: Runtime, v: number): void {
    if (this.measuring) this.s(key, r).add(v);
  }

  /** Failures count in warm-up too: a runtime that cannot do it is reported either way. */
  fail(keys: MetricKey[], r: Runtime, error: string): void {
    for (const k of keys) this.s(k, r).fail(error);
  }

  /** Records a failed step and removes whatever the container left (unmeasured). */
  abort(keys: MetricKey[], r: Runtime, id: string, error: string): void {
    this.fail(keys, r, error);
    rt(r, "delete", "--force", id);
  }

  /** After a successful delete: the runtime must not have left its state behind. */
  leftover(r: Runtime, id: string): string | undefined {
    return existsSync(path.join(r.root, id)) ? `${r.name} left ${path.join(r.root, id)} behind after delete/run` : undefined;
  }

  lifecycle(r: Runtime, id: string): void {
    writeConfig(r, this.base, ["/bin/sleep", "1000"], `/${id}`);
    const t0 = performance.now();
    const c = rt(r, "create", "--bundle", r.bundle, id);
    if (!c.ok) return this.abort(["csd", "lifecycle", "create"], r, id, c.error);
    const s = rt(r, "start", id);
    if (!s.ok) return this.abort(["csd", "lifecycle", "start"], r, id, s.error);
    const k = rt(r, "kill", id, "KILL");
    if (!k.ok) return this.abort(["csd", "lifecycle", "kill"], r, id, k.error);
    const d = rt(r, "delete", "--force", id);
    const total = performance.now() - t0;
    if (!d.ok) return this.abort(["csd", "lifecycle", "delete"], r, id, d.error);
    const left = this.leftover(r, id);
    if (left) return this.abort(["csd", "lifecycle", "delete"], r, id, left);
    this.record("csd", r, c.ms + s.ms + d.ms);
    this.record("lifecycle", r, total);
    this.record("create", r, c.ms);
    this.record("start", r, s.ms);
    this.record("kill", r, k.ms);
    this.record("delete", r, d.ms);
  }

  run(r: Runtime, id: string): void {
    writeConfig(r, this.base, ["/bin/true"], `/${id}`);
    const x = rt(r, "run", "--bundle", r.bundle, id);
    if (!x.ok) return this.abort(["run"], r, id, x.error);
    const left = this.leftover(r, id);
    if (left) return this.abort(["run"], r, id, left);
    this.record("run", r, x.ms);
  }

  memory(r: Runtime, id: string): void {
    writeConfig(r, this.base, ["/bin/sleep", "1000"], `/${id}`);
    /** What a failed start makes unmeasurable. */
    const afterStart: MetricKey[] = this.cg.peakRoot ? ["cgpeak", "forcedelete"] : ["forcedelete"];
    const timeFile = path.join(workDir, "time");
    writeFileSync(timeFile, "");
    const c = exec(["/usr/bin/time", "-f", "%M", "-o", timeFile, r.bin, "--root", r.root, "create", "--bundle", r.bundle, id]);
    if (!c.ok) return this.abort(["rss", "state", ...afterStart], r, id, c.error);
    // On a non-zero exit time(1) prefixes a "Command exited ..." line: the number is last.
    const kib = Number(readFileSync(timeFile, "utf8").trim().split("\n").pop());
    if (Number.isFinite(kib) && kib > 0) this.record("rss", r, kib / 1024);
    else this.fail(["rss"], r, `/usr/bin/time wrote no max RSS for ${r.name} create`);

    const st = rt(r, "state", id);
    if (st.ok) this.record("state", r, st.ms);
    else this.fail(["state"], r, st.error);

    const s = rt(r, "start", id);
    if (!s.ok) return this.abort(["exec", ...afterStart], r, id, s.error);
    const e = rt(r, "exec", id, "/bin/true");
    if (e.ok) this.record("exec", r, e.ms);
    else this.fail(["exec"], r, e.error);
    if (this.cg.peakRoot) {
      const file = path.join(this.cg.peakRoot, id, "memory.peak");
      if (existsSync(file)) this.record("cgpeak", r, Number(readFileSync(file, "utf8").trim()) / 2 ** 20);
      else this.fail(["cgpeak"], r, `${file} does not exist after ${r.name} start`);
    }
    const d = rt(r, "delete", "--force", id);
    if (!d.ok) return this.abort(["forcedelete"], r, id, d.error);
    const left = this.leftover(r, id);
    if (left) return this.abort(["forcedelete"], r, id, left);
    this.record("forcedelete", r, d.ms);
  }

  version(r: Runtime): void {
    const v = exec([r.bin, "--version"]);
    if (v.ok) this.record("version", r, v.ms);
    else this.fail(["version"], r, v.error);
  }

  async iteration(label: string): Promise<void> {
    const t = exec(["/bin/true"]);
    if (this.measuring && t.ok) this.spawnTrue.push(t.ms);
    const scenarios: [MetricKey, (r: Runtime, id: string) => void][] = [
      ["lifecycle", (r, id) => this.lifecycle(r, id)],
      ["run", (r, id) => this.run(r, id)],
      ["rss", (r, id) => this.memory(r, id)],
      ["version", (r) => this.version(r)],
    ];
    for (const [key, fn] of scenarios) {
      for (const r of this.runtimes) {
        if (this.s(key, r).gaveUp) continue;
        fn(r, `${TAG}-${r.name}-${key}-${label}`);
        await checkpoint();
      }
    }
  }
}

/* ------------------------------------------------------------------ cleanup */

/** Deletes every container left under our --root dirs, then the dirs, cgroups and work dir. */
function cleanupAll(runtimes: Runtime[]): string[] {
  const notes: string[] = [];
  for (const r of runtimes) {
    if (!existsSync(r.root)) continue;
    for (const id of readdirSync(r.root)) {
      if (!id.startsWith(TAG)) continue;
      notes.push(`${r.name}: container ${id} was still there at the end`);
      rt(r, "delete", "--force", id);
    }
    rmSync(r.root, { recursive: true, force: true });
  }
  for (const m of cgroupMounts()) {
    let entries: string[];
    try {
      entries = readdirSync(m.dir).filter((e) => e.startsWith(TAG));
    } catch {
      continue;
    }
    for (const e of entries) {
      notes.push(`cgroup ${path.join(m.dir, e)} was left behind`);
      removeCgroupTree(path.join(m.dir, e));
    }
  }
  if (workDir && existsSync(workDir)) {
    const mounted = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((l) => unescapeMount(l.split(" ")[4] ?? ""))
      .filter((mp) => mp === workDir || mp.startsWith(`${workDir}/`));
    if (mounted.length) notes.push(`not removing ${workDir}: mounted under it: ${mounted.join(", ")}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
  return notes;
}

/** rmdir a cgroup of ours bottom-up, SIGKILLing what is still inside. */
function removeCgroupTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) removeCgroupTree(path.join(dir, e.name));
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    let pids: number[] = [];
    try {
      pids = readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
    } catch {}
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    try {
      rmdirSync(dir);
      return;
    } catch {
      Bun.sleepSync(20);
    }
  }
}

/* ------------------------------------------------------------------ report */

interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
  failures: number;
  error?: string;
}

function summarize(s: Series): Summary | undefined {
  if (!s.values.length && !s.failures) return undefined;
  const v = s.values;
  return {
    median: v.length ? median(v) : NaN,
    min: v.length ? Math.min(...v) : NaN,
    max: v.length ? Math.max(...v) : NaN,
    n: v.length,
    failures: s.failures,
    ...(s.firstError ? { error: s.firstError } : {}),
  };
}

/** A metric counts as failed for a runtime once any attempt failed: a partial median would
 *  flatter whoever skips the hard cases. */
function cell(sum: Summary | undefined, na: string | undefined, decimals: number): string {
  if (na) return "n/a";
  if (!sum) return "-";
  if (sum.failures) return `FAILED ${sum.failures}/${sum.failures + sum.n}`;
  return sum.median.toFixed(decimals);
}

function ratio(a: Summary | undefined, b: Summary | undefined): number | undefined {
  if (!a || !b || a.failures || b.failures || !a.n || !b.n || b.median === 0) return undefined;
  return a.median / b.median;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("run as root (containers, cgroups, /run)");
  const runtsSrc = process.env.RUNTS_BIN || path.join(REPO, "dist/runts");
  if (!existsSync(runtsSrc)) throw new Error(`${runtsSrc} is missing: build it with \`sh scripts/build.sh\``);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => (interrupted ??= sig));

  workDir = mkdtempSync("/tmp/runts-bench-");
  chmodSync(workDir, 0o755);
  const runtimes: Runtime[] = [];
  let notes: string[] = [];
  let done: { bench: Bench; ctx: Omit<ReportContext, "notes"> };
  try {
    done = await measure(runtsSrc, runtimes);
  } finally {
    notes = cleanupAll(runtimes);
  }
  report(done.bench, { ...done.ctx, notes });
}

/** Everything between creating the work dir and cleaning up; registers into `runtimes`
 *  as it goes so that cleanupAll knows what to sweep whatever happens. */
async function measure(runtsSrc: string, runtimes: Runtime[]): Promise<{ bench: Bench; ctx: Omit<ReportContext, "notes"> }> {
  const runtsBin = path.join(workDir, "runts");
  copyFileSync(runtsSrc, runtsBin);
  chmodSync(runtsBin, 0o755);
  makeRootfs(path.join(workDir, "rootfs"));
  const { config: base, source: configSource } = baseConfig(runtsBin);
  const cg = detectCgroups();

  const add = (name: RuntimeName, bin: string): void => {
    const bundle = path.join(workDir, `bundle-${name}`);
    mkdirSync(bundle);
    runtimes.push({ name, bin, root: `/run/bench-${name}-${process.pid}`, bundle });
  };
  add("runts", runtsBin);
  add("runc", "runc");
  const crunNa = probeCrun(base);
  if (!crunNa) add("crun", "crun");

  const bench = new Bench(runtimes, base, cg);
  const versions = Object.fromEntries(runtimes.map((r) => [r.name, versionLine(r.bin)]));
  const started = Date.now();
  console.error(`bench: ${WHERE}, ${runtimes.map((r) => r.name).join(" vs ")}, ${WARMUP} warm-up + ${RUNS} measured iterations`);
  for (let i = 0; i < WARMUP; i++) await bench.iteration(`w${i}`);
  bench.measuring = true;
  for (let i = 0; i < RUNS; i++) {
    await bench.iteration(String(i));
    if ((i + 1) % 5 === 0 || i + 1 === RUNS) console.error(`bench: ${i + 1}/${RUNS} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  const seconds = (Date.now() - started) / 1000;
  return { bench, ctx: { runtimes, crunNa, cg, versions, configSource, runtsSrc, seconds } };
}

interface ReportContext {
  runtimes: Runtime[];
  crunNa: string | undefined;
  cg: Cgroups;
  versions: Record<string, string>;
  configSource: string;
  runtsSrc: string;
  seconds: number;
  notes: string[];
}

function report(bench: Bench, ctx: ReportContext): void {
  const names: RuntimeName[] = ["runts", "runc", "crun"];
  const has = (n: RuntimeName): boolean => ctx.runtimes.some((r) => r.name === n);
  const rows: string[][] = [["metric", "runts", "runc", "crun", "runts/runc", "runts/crun"]];
  const json: Record<string, unknown>[] = [];
  for (const m of METRICS) {
    const na = m.na ?? (m.key === "cgpeak" && !ctx.cg.peakRoot ? ctx.cg.peakNa : undefined);
    const sums = Object.fromEntries(
      names.map((n) => [n, has(n) ? summarize(bench.series.get(m.key)!.get(n)!) : undefined]),
    ) as Record<RuntimeName, Summary | undefined>;
    const rc = na ? undefined : ratio(sums.runts, sums.runc);
    const rr = na ? undefined : ratio(sums.runts, sums.crun);
    const dec = m.unit === "MiB" ? 1 : IN_VM ? 0 : 1;
    const ratioCell = (x: number | undefined, other: RuntimeName): string =>
      na ? "n/a" : !has(other) ? "n/a" : x === undefined ? "-" : `${x.toFixed(2)}x`;
    rows.push([
      m.label,
      cell(sums.runts, na, dec),
      cell(sums.runc, na, dec),
      has("crun") ? cell(sums.crun, na, dec) : "n/a",
      ratioCell(rc, "runc"),
      ratioCell(rr, "crun"),
    ]);
    json.push({
      metric: m.key,
      label: m.label.trim(),
      unit: m.unit,
      ...(na ? { na } : {}),
      results: Object.fromEntries(names.filter((n) => sums[n]).map((n) => [n, sums[n]])),
      ratio: { "runts/runc": rc ?? null, "runts/crun": rr ?? null },
    });
  }

  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string => r.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join("  ");
  const out: string[] = [];
  const load = os.loadavg().map((x) => x.toFixed(2)).join(" ");
  out.push(
    `runts benchmark on the ${WHERE} (${os.hostname()}, kernel ${os.release()}, ${os.cpus().length} cpus, cgroups ${ctx.cg.mode}, load ${load})`,
    `medians of ${RUNS} runs after ${WARMUP} warm-up iterations, runtimes interleaved per iteration; config from ${ctx.configSource}`,
    "ratio = runts median / other median (> 1: runts slower or bigger)",
    ...ctx.runtimes.map((r) => `  ${r.name}: ${ctx.versions[r.name]}`),
    "",
    line(rows[0]!),
    ...rows.slice(1).map(line),
    "",
  );
  if (!ctx.cg.peakRoot) out.push(`container memory.peak: ${ctx.cg.peakNa}`);
  if (ctx.crunNa) out.push(`crun: n/a (${ctx.crunNa})`);
  if (bench.spawnTrue.length) out.push(`harness overhead: spawnSync(/bin/true) median ${median(bench.spawnTrue).toFixed(2)} ms`);
  const failures: string[] = [];
  for (const m of METRICS) {
    for (const r of ctx.runtimes) {
      const s = bench.series.get(m.key)!.get(r.name)!;
      if (s.failures) {
        failures.push(`  ${m.key} / ${r.name}: ${s.failures} failed${s.gaveUp ? " (gave up)" : ""}; first: ${s.firstError}`);
      }
    }
  }
  if (failures.length) out.push("", "failures:", ...failures);
  if (ctx.notes.length) out.push("", "cleanup:", ...ctx.notes.map((n) => `  ${n}`));
  console.log(out.join("\n"));

  const resultsDir = path.join(REPO, "bench/results");
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `latest-${WHERE}.json`);
  const doc = {
    where: WHERE,
    date: new Date().toISOString(),
    hostname: os.hostname(),
    kernel: os.release(),
    cpus: os.cpus().length,
    loadavg: os.loadavg(),
    cgroups: ctx.cg.mode,
    runs: RUNS,
    warmup: WARMUP,
    seconds: ctx.seconds,
    configSource: ctx.configSource,
    ociVersion: OCI_VERSION,
    runts: { path: ctx.runtsSrc, mtime: statSync(ctx.runtsSrc).mtime.toISOString() },
    versions: ctx.versions,
    unavailable: ctx.crunNa ? { crun: ctx.crunNa } : {},
    harnessSpawnTrueMs: bench.spawnTrue.length ? median(bench.spawnTrue) : null,
    metrics: json,
    failures,
    cleanup: ctx.notes,
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(REPO, file)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof Interrupted) {
      console.error(`bench: ${err.signal}: stopped, cleaned up`);
      process.exit(128 + (os.constants.signals[err.signal] ?? 0));
    }
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

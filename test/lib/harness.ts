/**
 * Helpers for integration tests that run real containers as root, with either runts or runc
 * (the oracle). Tests always pass `--root` (see ROOTS) so they never touch a user's /run/runts.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const RUNTS = guestLocal(path.resolve(REPO, "dist/runts"));

/**
 * In the qemu guest (RUN_IN_VM=1) the repo is a 9p share and every exec of the ~100 MB Bun
 * binary reads it over 9p again (seconds of system time per call): run a copy in the guest's
 * tmpfs instead.
 */
function guestLocal(bin: string): string {
  if (process.env.RUN_IN_VM !== "1" || !existsSync(bin)) return bin;
  const local = `/tmp/runts-guest-${process.pid}/runts`;
  if (!existsSync(local)) {
    mkdirSync(path.dirname(local), { recursive: true });
    copyFileSync(bin, local);
    chmodSync(local, 0o755);
  }
  return local;
}
/** The oracle. */
export const RUNC = existsSync("/usr/sbin/runc") ? "/usr/sbin/runc" : "runc";
/** State roots passed with --root, one per runtime. */
export const ROOTS = { runts: "/run/runts-test", runc: "/run/runc-test" } as const;

/** A runtime under test, with its own state root. */
export interface Runtime {
  name: "runts" | "runc";
  bin: string;
  root: string;
}
export const RT_RUNTS: Runtime = { name: "runts", bin: RUNTS, root: ROOTS.runts };
export const RT_RUNC: Runtime = { name: "runc", bin: RUNC, root: ROOTS.runc };
/** The oracle first: runts's results are compared with runc's. */
export const BOTH = [RT_RUNC, RT_RUNTS];

export const isRoot = process.getuid?.() === 0;

/** Integration tests call this first: they fail (never skip silently) when not root. */
export function requireRoot(): void {
  if (!isRoot) throw new Error("integration tests need root");
}

export interface RunResult {
  /** Exit status; -1 when killed by a signal (see `signal`) or not started. */
  code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  input?: string;
  /** Default 20 000 ms; on expiry the runtime is SIGKILLed and the result says so. */
  timeoutMs?: number;
  /** Added to (and overriding) the current environment, or all of it with inheritEnv false. */
  env?: Record<string, string>;
  /** Default true; false: the runtime gets exactly `env` (no PATH, HOME, ... of the tests). */
  inheritEnv?: boolean;
  cwd?: string;
}

export const DEFAULT_TIMEOUT_MS = 20_000;

function childEnv(opts: RunOptions): NodeJS.ProcessEnv {
  if (opts.inheritEnv === false) return opts.env ?? {};
  return opts.env ? { ...process.env, ...opts.env } : process.env;
}

/**
 * Runs `bin args...` synchronously. stdout/stderr go to temporary files, not pipes, so a
 * detached container that inherits them (`run -d`, `start`) does not keep this call waiting
 * until the container exits.
 */
export function runtime(bin: string, args: string[], opts: RunOptions = {}): RunResult {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const dir = mkdtempSync(path.join(tmpdir(), "runts-run-"));
  const fds: number[] = [];
  try {
    let stdin: number | "ignore" = "ignore";
    if (opts.input !== undefined) {
      writeFileSync(path.join(dir, "in"), opts.input);
      stdin = openSync(path.join(dir, "in"), "r");
      fds.push(stdin);
    }
    const out = openSync(path.join(dir, "out"), "w+");
    fds.push(out);
    const err = openSync(path.join(dir, "err"), "w+");
    fds.push(err);
    const r = spawnSync(bin, args, {
      stdio: [stdin, out, err],
      timeout: timeoutMs,
      killSignal: "SIGKILL",
      env: childEnv(opts),
      cwd: opts.cwd,
    });
    const stdout = readFileSync(path.join(dir, "out"), "utf8");
    let stderr = readFileSync(path.join(dir, "err"), "utf8");
    const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT";
    if (timedOut) stderr += `\n[harness] ${bin} ${args.join(" ")}: timed out after ${timeoutMs} ms, killed\n`;
    else if (r.error) stderr += `\n[harness] ${bin}: ${r.error.message}\n`;
    return { code: r.status ?? -1, signal: r.signal ?? null, stdout, stderr, timedOut };
  } finally {
    for (const fd of fds) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

let idCounter = 0;
/** A container id unique across parallel test processes, e.g. `t-4242-3-9f1c2a`. */
export function uniqueId(prefix = "t"): string {
  idCounter += 1;
  const rand = Math.floor(Math.random() * 0x1000000).toString(16).padStart(6, "0");
  return `${prefix}-${process.pid}-${idCounter}-${rand}`;
}

/** Runs `<bin> --root <root> delete --force <id>`, ignoring any error. For afterEach. */
export function forceCleanup(bin: string, root: string, id: string): void {
  try {
    runtime(bin, ["--root", root, "delete", "--force", id], { timeoutMs: 10_000 });
  } catch {
    // best effort
  }
}

function readText(p: string): string | null {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return null;
  }
}

/** Directories under `dir` (not following symlinks) whose name contains `id`, up to `depth` levels. */
export function findDirs(dir: string, id: string, depth: number, found: Set<string>): void {
  if (depth <= 0) return;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const p = path.join(dir, e.name);
    if (e.name.includes(id)) found.add(p);
    findDirs(p, id, depth - 1, found);
  }
}

/**
 * Everything left of container `id` on the host, as human-readable strings; [] means clean.
 * Looks at the state dir `<root>/<id>`, cgroup dirs (up to 4 levels deep under /sys/fs/cgroup
 * and /sys/fs/cgroup/unified) whose name contains the id, mounts whose mount point or source
 * contains it, and processes whose cmdline, environ or cgroup mention it (except zombies
 * already orphaned to the host's pid 1, which only await reaping).
 */
export function leftovers(id: string, root: string): string[] {
  const out: string[] = [];
  const stateDir = path.join(root, id);
  if (existsSync(stateDir)) out.push(`state dir ${stateDir}`);

  const cg = new Set<string>();
  for (const base of ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]) findDirs(base, id, 4, cg);
  for (const d of [...cg].sort()) out.push(`cgroup ${d}`);

  for (const line of (readText("/proc/self/mountinfo") ?? "").split("\n")) {
    const m = parseMountinfoLine(line);
    if (m && (m.mountPoint.includes(id) || m.source.includes(id))) out.push(`mount ${m.mountPoint} (${m.fsType} from ${m.source})`);
  }

  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid);
  } catch {
    // no /proc: nothing to report
  }
  for (const pid of pids) {
    const why: string[] = [];
    const cmdline = readText(`/proc/${pid}/cmdline`);
    if (cmdline === null) continue; // exited meanwhile
    if (cmdline.includes(id)) why.push("cmdline");
    if (readText(`/proc/${pid}/environ`)?.includes(id)) why.push("environ");
    if (readText(`/proc/${pid}/cgroup`)?.includes(id)) why.push("cgroup");
    if (why.length === 0) continue;
    // A zombie orphaned to the host's init is waiting to be reaped (this VM's init reaps
    // orphans only every couple of seconds); the runtime has nothing more to clean up.
    const status = readText(`/proc/${pid}/status`) ?? "";
    if (/^State:\s*Z/m.test(status) && /^PPid:\s*1$/m.test(status)) continue;
    let exe = "";
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      // zombie or kernel thread
    }
    const cmd = cmdline.split("\0").filter(Boolean).join(" ") || exe || "?";
    out.push(`process ${pid} (${cmd}) [${why.join(",")}]`);
  }
  return out;
}

export interface MountinfoEntry {
  id: number;
  parentId: number;
  majorMinor: string;
  root: string;
  mountPoint: string;
  options: string;
  optional: string[];
  fsType: string;
  source: string;
  superOptions: string;
}

const unescapeMountinfo = (s: string): string =>
  s.replace(/\\([0-3][0-7]{2})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Parses one /proc/PID/mountinfo line (the same shape probe.c reports); null if malformed. */
export function parseMountinfoLine(line: string): MountinfoEntry | null {
  const f = line.trim().split(" ");
  const dash = f.indexOf("-", 6);
  if (f.length < 6 || dash < 0 || dash + 2 >= f.length) return null;
  return {
    id: Number(f[0]),
    parentId: Number(f[1]),
    majorMinor: f[2]!,
    root: unescapeMountinfo(f[3]!),
    mountPoint: unescapeMountinfo(f[4]!),
    options: f[5]!,
    optional: f.slice(6, dash),
    fsType: f[dash + 1]!,
    source: unescapeMountinfo(f[dash + 2]!),
    superOptions: f[dash + 3] ?? "",
  };
}

/** The host's mounts, from /proc/self/mountinfo. */
export function hostMounts(): MountinfoEntry[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map(parseMountinfoLine)
    .filter((m): m is MountinfoEntry => m !== null);
}

/** The cgroup v2 hierarchy: /sys/fs/cgroup on a pure v2 host, /sys/fs/cgroup/unified on a hybrid one. */
export function cgroupV2Root(): string {
  const mounts = (readText("/proc/self/mountinfo") ?? "")
    .split("\n")
    .map(parseMountinfoLine)
    .filter((m): m is MountinfoEntry => m !== null && m.fsType === "cgroup2");
  for (const want of ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]) {
    if (mounts.some((m) => m.mountPoint === want)) return want;
  }
  throw new Error("no cgroup2 hierarchy mounted at /sys/fs/cgroup or /sys/fs/cgroup/unified");
}

/** RLIMIT value: a number, or "unlimited" for RLIM_INFINITY. */
export type RlimitValue = number | "unlimited";

/** What `probe info` prints (test/probe/probe.c). */
export interface ProbeInfo {
  pid: number;
  ppid: number;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  /** Supplementary groups (getgroups). */
  groups: number[];
  /** Octal, from /proc/self/status, e.g. "0022". */
  umask: string;
  /** getcwd(), or "errno N". */
  cwd: string;
  hostname: string;
  domainname: string;
  /** readlink /proc/self/exe, or "errno N". */
  exe: string;
  /** 16 hex digits without 0x, as in /proc/self/status, e.g. bnd "0000000020000420". */
  caps: { inh: string; prm: string; eff: string; bnd: string; amb: string };
  noNewPrivs: number;
  /** 0 disabled, 1 strict, 2 filter. */
  seccomp: number;
  /** Number of seccomp filters attached (absent on kernels without Seccomp_filters). */
  seccompFilters?: number;
  /** Blocked / ignored signal masks, hex as in /proc/self/status. */
  sigBlk: string;
  sigIgn: string;
  oomScoreAdj: number;
  /** Lines of /proc/self/cgroup, e.g. "0::/" or "4:memory:/foo". */
  cgroup: string[];
  /** /proc/self/mountinfo, in order; octal escapes decoded. */
  mounts: MountinfoEntry[];
  /** Open fds (excluding the one used to list /proc/self/fd); target is the readlink or "errno N". */
  fds: { fd: number; target: string }[];
  /** Keyed by name, e.g. rlimits.RLIMIT_NOFILE.soft. */
  rlimits: Record<string, { soft: RlimitValue; hard: RlimitValue }>;
  env: string[];
  /** "ifname addr/prefix", IPv4 and IPv6, e.g. "lo 127.0.0.1/8". */
  ips: string[];
  /** personality(0xffffffff). */
  personality: number;
  /** getpriority(PRIO_PROCESS, 0). */
  nice: number;
  /** Raw ioprio_get(IOPRIO_WHO_PROCESS, 0): class = v >> 13, level = v & 0x1fff; -1 on error. */
  ioprio: number;
  /** From sched_getattr; the last five are absent if only sched_getscheduler worked. */
  sched: {
    policy: string; // "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_IDLE", "SCHED_DEADLINE"
    priority: number;
    nice?: number;
    flags?: number;
    runtime?: number;
    deadline?: number;
    period?: number;
  };
  /** CPU affinity list, e.g. "0-1" or "0,2-3". */
  cpus: string;
  /** readlink /proc/self/ns/*, e.g. ns.pid = "pid:[4026531836]". */
  ns: Partial<Record<"cgroup" | "ipc" | "mnt" | "net" | "pid" | "time" | "user" | "uts", string>>;
}

/** Parses `probe info` output (tolerating other lines around the JSON object). */
export function probeInfo(stdout: string): ProbeInfo {
  const candidates = [stdout.trim(), ...stdout.split("\n").filter((l) => l.startsWith("{"))];
  for (const c of candidates) {
    try {
      const v: unknown = JSON.parse(c);
      if (typeof v === "object" && v !== null && typeof (v as { pid?: unknown }).pid === "number") return v as ProbeInfo;
    } catch {
      // try the next candidate
    }
  }
  throw new Error(`not probe info output: ${JSON.stringify(stdout.slice(0, 500))}`);
}

/** Decodes a caps hex string ("0000000020000420") to a bigint. */
export const capMask = (hex: string): bigint => BigInt(`0x${hex}`);

/** A runtime started in the background by spawnRuntime(). */
export interface SpawnedRuntime {
  pid: number;
  /** Resolves when the runtime process exits (on timeout it is SIGKILLed and timedOut is set). */
  result: Promise<RunResult>;
  /** stdout written so far. */
  stdoutSoFar(): string;
  /** Whether the runtime process has exited. */
  done(): boolean;
  /** Sends a signal to the runtime process (ignored once it has exited). */
  signal(sig: NodeJS.Signals): void;
}

/**
 * Starts `bin args...` asynchronously. As with runtime(), stdout/stderr go to temporary files,
 * so `result` resolves when the runtime itself exits, even if a container or hook it started
 * still holds them. `extraFds` become the child's fds 3, 4, ... (for --preserve-fds).
 */
export function spawnRuntime(bin: string, args: string[], opts: RunOptions & { extraFds?: number[] } = {}): SpawnedRuntime {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const dir = mkdtempSync(path.join(tmpdir(), "runts-spawn-"));
  const outPath = path.join(dir, "out");
  const errPath = path.join(dir, "err");
  const out = openSync(outPath, "w+");
  const err = openSync(errPath, "w+");
  let child;
  try {
    child = spawn(bin, args, {
      stdio: ["ignore", out, err, ...(opts.extraFds ?? [])],
      env: childEnv(opts),
      cwd: opts.cwd,
    });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  const proc = child;
  let timedOut = false;
  let spawnError = "";
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  const result = new Promise<RunResult>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      const stdout = readText(outPath) ?? "";
      let stderr = (readText(errPath) ?? "") + spawnError;
      if (timedOut) stderr += `\n[harness] ${bin} ${args.join(" ")}: timed out after ${timeoutMs} ms, killed\n`;
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: code ?? -1, signal: signal ?? null, stdout, stderr, timedOut });
    };
    proc.on("error", (e) => {
      spawnError += `\n[harness] ${bin}: ${e.message}\n`;
      if (proc.pid === undefined) finish(null, null);
    });
    proc.on("exit", finish);
  });
  return {
    pid: proc.pid ?? -1,
    result,
    stdoutSoFar: () => readText(outPath) ?? "",
    done: () => proc.exitCode !== null || proc.signalCode !== null,
    signal(sig) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    },
  };
}

/**
 * Polls `cond` (every `intervalMs`, yielding to the event loop) until it returns a truthy
 * value, which is returned; throws naming `what` after `timeoutMs`.
 */
export async function waitFor<T>(what: string, cond: () => T, timeoutMs = 10_000, intervalMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** `<bin> --root <root> state <id>` parsed, or null when the command fails. */
export function containerState(bin: string, root: string, id: string): Record<string, any> | null {
  const r = runtime(bin, ["--root", root, "state", id], { timeoutMs: 10_000 });
  if (r.code !== 0) return null;
  try {
    return JSON.parse(r.stdout) as Record<string, any>;
  } catch {
    return null;
  }
}

/**
 * Container managers (podman, containerd through its runc v2 shim, docker) with runts or runc as
 * their runtime, for test/integration/managers-*.test.ts. Each suite gets a Sandbox: a private
 * directory for every root, state, socket and config the managers use, a throwaway network namespace the daemons
 * run in (so the bridges and firewall rules they add live and die with it), an argv recorder
 * in front of each runtime, and a cleanup that stops the daemons by pid and removes mounts,
 * processes, cgroups and the netns even when a test failed.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect } from "bun:test";
import { findDirs, hostMounts, REPO, requireRoot, type RunOptions, type RunResult, RT_RUNC, RT_RUNTS, type Runtime, runtime } from "./harness";
import { expectCoveredForms } from "./manager-argv";
import { testRootfs } from "./rootfs";

/** Debian packages the manager suites need, as scripts/ensure-apt.sh CHECK:PACKAGE pairs. */
export const MANAGER_PACKAGES = [
  "/usr/bin/podman:podman",
  "/usr/bin/conmon:conmon",
  "/usr/lib/podman/netavark:netavark",
  "/usr/lib/podman/aardvark-dns:aardvark-dns",
  "/usr/bin/containerd:containerd",
  "/usr/bin/containerd-shim-runc-v2:containerd",
  "/usr/sbin/dockerd:docker.io",
  "/usr/bin/docker:docker.io",
  "/usr/sbin/iptables:iptables",
  "/usr/bin/tini:tini",
  "/usr/bin/nsenter:util-linux",
];

/** Installs the managers when missing (root, Debian); throws with apt's message otherwise. */
export function ensureManagers(): void {
  const r = spawnSync("sh", [path.join(REPO, "scripts/ensure-apt.sh"), ...MANAGER_PACKAGES], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.status !== 0) throw new Error(`installing the managers failed: ${r.stdout}${r.stderr}`);
}

/** The docker CLI of the docker.io package (another `docker` may come first in PATH). */
export const DOCKER = "/usr/bin/docker";
/** The image every manager runs: the test rootfs (busybox + /bin/probe) as one layer. */
export const IMAGE = "docker.io/library/busybox:latest";

export type Manager = "podman" | "containerd" | "docker";

/** One runtime call as the recorder saw it. */
export interface RecordedCall {
  manager: Manager;
  /** "runts" or "runc". */
  runtime: string;
  argv: string[];
}

const sha256 = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");

/**
 * Writes a docker-archive tarball (what `docker save` writes; `docker load`, `podman load` and
 * `ctr images import` all read it) of the test rootfs into `dir`, tagged IMAGE.
 */
export function buildImageArchive(dir: string): string {
  const work = path.join(dir, "image");
  mkdirSync(work, { recursive: true });
  const layer = path.join(work, "layer.tar");
  check(runtime("tar", ["--numeric-owner", "--owner=0", "--group=0", "--exclude=./.complete", "-C", testRootfs(), "-cf", layer, "."]), "tar layer");
  const diffId = `sha256:${sha256(readFileSync(layer))}`;
  const config = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    created: "2024-01-01T00:00:00Z",
    config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: [diffId] },
    history: [{ created: "2024-01-01T00:00:00Z", created_by: "runts test rootfs" }],
  });
  const configName = `${sha256(config)}.json`;
  writeFileSync(path.join(work, configName), config);
  writeFileSync(path.join(work, "manifest.json"), JSON.stringify([{ Config: configName, RepoTags: ["busybox:latest"], Layers: ["layer.tar"] }]));
  const archive = path.join(dir, "busybox.tar");
  check(runtime("tar", ["-C", work, "-cf", archive, "manifest.json", configName, "layer.tar"]), "tar image");
  rmSync(work, { recursive: true, force: true });
  return archive;
}

/** Throws with the command's output unless it exited 0; returns it otherwise. */
export function check(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}${r.signal ? ` (${r.signal})` : ""}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** A daemon started by a Sandbox. */
export interface Daemon {
  name: string;
  pid: number;
  log: string;
  alive(): boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readText(`/proc/${pid}/stat`);
  return stat !== null && !/^\d+ \(.*\) Z/.test(stat);
}

function readText(p: string): string | null {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return null;
  }
}

/** Processes whose command line mentions `needle` (not this process). */
export function processesMentioning(needle: string): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const n of readdirSync("/proc")) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid) continue;
    const cmd = readText(`/proc/${n}/cmdline`);
    if (cmd === null || !cmd.includes(needle)) continue;
    const stat = readText(`/proc/${n}/stat`) ?? "";
    if (/^\d+ \(.*\) Z/.test(stat)) continue;
    out.push({ pid: Number(n), cmd: cmd.split("\0").join(" ").trim() });
  }
  return out;
}

/** Cgroup directories (v1 controllers and cgroup2) whose name contains `needle`, up to 5 levels. */
export function cgroupsMentioning(needle: string): string[] {
  const found = new Set<string>();
  findDirs("/sys/fs/cgroup", needle, 5, found);
  return [...found].sort();
}

/** SIGKILLs every process in a cgroup directory and below it. */
function killCgroupTree(dir: string): void {
  const found = new Set<string>([dir]);
  findDirs(dir, "", 8, found);
  for (const d of found) {
    for (const pid of (readText(path.join(d, "cgroup.procs")) ?? "").split("\n").filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // gone
      }
    }
  }
}

/** Removes a cgroup directory and everything below it (children first); errors ignored. */
function removeCgroupTree(dir: string): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return;
  }
  for (const e of entries) removeCgroupTree(path.join(dir, e));
  try {
    rmdirSync(dir);
  } catch {
    // still has processes: reported by leftovers()
  }
}

/** Default runtime state roots: podman calls the runtime without --root. */
const STATE_ROOTS = ["/run/runts", "/run/runc"];

/**
 * A throwaway place for the managers: base directory /tmp/runts-mgr-<name>-XXXX, network
 * namespace runts-mgr-<name>-<pid>, recorders base/rec/<manager>/{runts,runc}.
 */
export class Sandbox {
  readonly base: string;
  readonly netns: string;
  readonly netnsPath: string;
  readonly daemons: Daemon[] = [];
  private readonly recordLog: string;
  /** Extra cleanup steps (run first, in reverse order). */
  private readonly cleanups: (() => void)[] = [];
  /** Container ids whose processes, cgroups and state must be gone at the end. */
  readonly tracked = new Set<string>();
  /** Mounts a manager keeps for its store while it exists (podman's overlay root), not a container's. */
  readonly storeMounts = new Set<string>();
  /** Cgroup directories a manager makes as parents (named anywhere in the tree), removed at the end. */
  readonly cgroupParents = new Set<string>();

  /** Host paths the managers create outside base (none of them take a flag for it), removed at the end if they were not there before. */
  private readonly hostPaths = ["/etc/docker", "/run/docker", "/run/containerd", "/run/containers"].filter((p) => !existsSync(p));
  /** The default runtime state roots, removed at the end if they were not there before and are empty. */
  private readonly stateRoots = STATE_ROOTS.filter((p) => !existsSync(p));

  /** With record false (the benchmarks), the managers call the runtimes directly. */
  constructor(
    name: string,
    private readonly record = true,
  ) {
    this.base = mkdtempSync(`/tmp/runts-mgr-${name}-`);
    chmodSync(this.base, 0o755);
    this.netns = `runts-mgr-${name}-${process.pid}`;
    this.netnsPath = `/run/netns/${this.netns}`;
    check(runtime("ip", ["netns", "add", this.netns]), `ip netns add ${this.netns}`);
    check(runtime("nsenter", [`--net=${this.netnsPath}`, "--", "ip", "link", "set", "lo", "up"]), "lo up");
    this.recordLog = path.join(this.base, "rec/calls.jsonl");
    mkdirSync(path.join(this.base, "rec"));
  }

  /**
   * What `manager` is told to run as `rt`: the recorder base/rec/<manager>/<rt.name> (podman
   * names a runtime after its file), which appends {"manager", "runtime", "argv"} to
   * calls.jsonl and execs rt; rt itself when not recording.
   */
  wrapper(rt: Runtime, manager: Manager): string {
    if (!this.record) return rt.bin;
    const p = path.join(this.base, "rec", manager, rt.name);
    if (!existsSync(p)) this.writeRecorder(rt, manager, p);
    return p;
  }

  private writeRecorder(rt: Runtime, manager: Manager, file: string): void {
    mkdirSync(path.dirname(file), { recursive: true });
    // One printf per call: a line below PIPE_BUF is appended atomically (O_APPEND) even when
    // the manager runs the runtime concurrently. Arguments with newlines are not expected.
    const script = `#!/bin/sh
line=$(printf '%s\\n' "$@" | sed 's/\\\\/\\\\\\\\/g; s/"/\\\\"/g; s/\t/\\\\t/g; s/.*/"&"/' | paste -sd, -)
printf '{"manager":"${manager}","runtime":"${rt.name}","argv":[%s]}\\n' "$line" >>${this.recordLog}
exec ${rt.bin} "$@"
`;
    writeFileSync(file, script, { mode: 0o755 });
  }

  /** Every runtime call recorded so far. */
  calls(): RecordedCall[] {
    const text = readText(this.recordLog) ?? "";
    return text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as RecordedCall);
  }

  /** Makes base/<sub> and returns it. */
  dir(sub: string): string {
    const d = path.join(this.base, sub);
    mkdirSync(d, { recursive: true });
    return d;
  }

  /** argv prefix that runs a command in the sandbox's network namespace. */
  inNetns(cmd: string[]): string[] {
    return ["nsenter", `--net=${this.netnsPath}`, "--", ...cmd];
  }

  /** Runs `cmd` in the sandbox's network namespace. */
  run(cmd: string[], opts: RunOptions = {}): RunResult {
    const [bin, ...args] = this.inNetns(cmd);
    return runtime(bin!, args, { timeoutMs: 60_000, ...opts });
  }

  /**
   * Starts a daemon in the sandbox's network namespace and a private mount namespace (its
   * mounts, and those of the shims it starts, die with them), logging to base/<name>.log, and
   * waits until `ready()` holds. With `mountNsOf`, it joins that daemon's mount namespace
   * instead (dockerd mounts the rootfs that containerd's shim hands to the runtime).
   */
  async startDaemon(name: string, cmd: string[], ready: () => boolean, mountNsOf?: Daemon): Promise<Daemon> {
    const log = path.join(this.base, `${name}.log`);
    const fd = openSync(log, "a");
    const argv = mountNsOf
      ? ["nsenter", `--net=${this.netnsPath}`, `--mount=/proc/${mountNsOf.pid}/ns/mnt`, "--", ...cmd]
      : this.inNetns(["unshare", "--mount", "--propagation", "slave", "--", ...cmd]);
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", fd, fd], detached: true });
    closeSync(fd);
    child.unref();
    const d: Daemon = { name, pid: child.pid ?? -1, log, alive: () => alive(d.pid) };
    this.daemons.push(d);
    const deadline = Date.now() + 30_000;
    while (!ready()) {
      if (!d.alive()) throw new Error(`${name} exited while starting:\n${readText(log)}`);
      if (Date.now() > deadline) throw new Error(`${name} not ready after 30 s:\n${readText(log)}`);
      await sleep(50);
    }
    return d;
  }

  /** Stops a daemon: SIGTERM, then SIGKILL after `graceMs`. */
  async stopDaemon(d: Daemon, graceMs = 10_000): Promise<void> {
    if (!d.alive()) return;
    try {
      process.kill(d.pid, "SIGTERM");
    } catch {
      return;
    }
    const deadline = Date.now() + graceMs;
    while (d.alive() && Date.now() < deadline) await sleep(50);
    if (d.alive()) process.kill(d.pid, "SIGKILL");
    while (d.alive()) await sleep(20);
  }

  /**
   * SIGKILLs a daemon (the fault test), leaving what it started, and waits until it is reaped:
   * dockerd refuses to start while the pid in its pid file still exists, even as a zombie.
   */
  async killDaemon(d: Daemon): Promise<void> {
    if (d.alive()) process.kill(d.pid, "SIGKILL");
    const deadline = Date.now() + 5_000;
    while (existsSync(`/proc/${d.pid}`) && Date.now() < deadline) await sleep(20);
  }

  onCleanup(fn: () => void): void {
    this.cleanups.push(fn);
  }

  /** What is left of the sandbox's containers on the host; [] is clean. */
  leftovers(): string[] {
    const out: string[] = [];
    const daemons = new Set(this.daemons.filter((d) => d.alive()).map((d) => d.pid));
    for (const p of processesMentioning(this.base)) if (!daemons.has(p.pid)) out.push(`process ${p.pid} (${p.cmd})`);
    for (const name of this.tracked) {
      for (const p of processesMentioning(name)) out.push(`process ${p.pid} (${p.cmd})`);
      for (const c of cgroupsMentioning(name)) out.push(`cgroup ${c}`);
    }
    for (const name of this.tracked) {
      for (const root of STATE_ROOTS) if (existsSync(path.join(root, name))) out.push(`state dir ${path.join(root, name)}`);
    }
    for (const m of hostMounts()) {
      if (this.storeMounts.has(m.mountPoint)) continue;
      if (m.mountPoint.startsWith(this.base) || m.source.startsWith(this.base)) out.push(`mount ${m.mountPoint}`);
    }
    return [...new Set(out)];
  }

  /**
   * Removes everything, whatever state the tests left: cleanup steps, daemons (by pid), any
   * process still running from the sandbox (shims, conmon, containers), mounts under base,
   * the tracked cgroups, the netns and base itself. Returns what could not be removed.
   */
  async destroy(): Promise<string[]> {
    for (const fn of this.cleanups.reverse()) {
      try {
        fn();
      } catch {
        // best effort; what remains is swept below
      }
    }
    for (const d of [...this.daemons].reverse()) await this.stopDaemon(d);
    for (let round = 0; round < 3; round++) {
      const procs = [...processesMentioning(this.base), ...[...this.tracked].flatMap((n) => processesMentioning(n))];
      if (procs.length === 0) break;
      for (const p of procs) {
        try {
          process.kill(p.pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      await sleep(200);
    }
    // podman calls the runtimes without --root: a container it lost track of (a test that
    // failed half-way) still has its state in the default roots.
    for (const id of this.tracked) {
      for (const rt of [RT_RUNTS, RT_RUNC]) {
        if (STATE_ROOTS.some((r) => existsSync(path.join(r, id)))) runtime(rt.bin, ["delete", "--force", id], { timeoutMs: 10_000 });
      }
    }
    const mounts = hostMounts()
      .filter((m) => m.mountPoint.startsWith(this.base))
      .map((m) => m.mountPoint)
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) runtime("umount", ["-l", m]);
    const cgroups = [...this.tracked, ...this.cgroupParents].flatMap((name) => cgroupsMentioning(name));
    if (cgroups.length > 0) {
      // A container whose manager died (a failed fault test) is found by its cgroup alone.
      for (const c of cgroups) killCgroupTree(c);
      await sleep(200);
    }
    for (const c of cgroups) removeCgroupTree(c);
    const left = this.leftovers();
    for (const name of this.cgroupParents) for (const c of cgroupsMentioning(name)) left.push(`cgroup ${c}`);
    runtime("ip", ["netns", "del", this.netns]);
    if (existsSync(this.netnsPath)) left.push(`netns ${this.netns}`);
    for (const p of this.stateRoots) {
      try {
        rmdirSync(p);
      } catch {
        // not empty (reported above) or never made
      }
    }
    for (const p of [this.base, ...this.hostPaths]) {
      rmSync(p, { recursive: true, force: true });
      if (existsSync(p)) left.push(`directory ${p}`);
    }
    return left;
  }
}

/** The runtimes every scenario runs with: the oracle first. */
export const MANAGED = [RT_RUNC, RT_RUNTS];

/** Runs `scenario` with runc, then with runts, expects the same result and returns it. */
export function compareRuntimes<T>(scenario: (rt: Runtime) => T): T {
  const [oracle, ours] = MANAGED.map(scenario);
  expect(ours).toEqual(oracle!);
  return ours!;
}

/** The same for a scenario that waits: runc's run first, then runts's. */
export async function compareRuntimesAsync<T>(scenario: (rt: Runtime) => Promise<T>): Promise<T> {
  const oracle = await scenario(MANAGED[0]!);
  const ours = await scenario(MANAGED[1]!);
  expect(ours).toEqual(oracle);
  return ours;
}

/** The managers of one test file, in one sandbox, with the busybox image loaded into each. */
export interface Managers {
  sb: Sandbox;
  podman: Podman;
  ctrd: Containerd;
  docker: Docker;
}

/**
 * For beforeAll: installs what is missing, then starts the managers `which` asks for (docker
 * brings its containerd, which ctr shares in a namespace of its own).
 */
export async function startManagers(name: string, which: Manager[]): Promise<Partial<Managers> & { sb: Sandbox }> {
  requireRoot();
  ensureManagers();
  const sb = new Sandbox(name);
  try {
    const image = buildImageArchive(sb.base);
    const out: Partial<Managers> & { sb: Sandbox } = { sb };
    if (which.includes("podman")) {
      out.podman = new Podman(sb);
      out.podman.load(image);
    }
    if (which.includes("containerd") || which.includes("docker")) {
      const ctrd = new Containerd(sb);
      sb.onCleanup(() => ctrd.daemon?.alive() && ctrd.removeAll());
      await ctrd.start();
      if (which.includes("containerd")) {
        ctrd.import(image);
        out.ctrd = ctrd;
      }
      if (which.includes("docker")) {
        out.docker = new Docker(sb, ctrd);
        await out.docker.start();
        out.docker.load(image);
      }
    }
    return out;
  } catch (e) {
    await sb.destroy();
    throw e;
  }
}

/**
 * A test file's managers: started in its beforeAll (installing what is missing), removed in its
 * afterAll with the leftover and call-form checks. The object is filled in once beforeAll ran.
 */
export function managersSuite(suite: string, which: Manager[]): Managers {
  const m = {} as Managers;
  beforeAll(async () => {
    Object.assign(m, await startManagers(suite, which));
  }, 600_000);
  afterAll(() => stopManagers(suite, m.sb), 120_000);
  return m;
}

/** For afterAll: removes everything (expecting nothing left) and checks the recorded call forms. */
export async function stopManagers(suite: string, sb: Sandbox | undefined): Promise<void> {
  if (!sb) return;
  const calls = sb.calls();
  expect(await sb.destroy()).toEqual([]);
  for (const manager of new Set(calls.map((c) => c.manager))) {
    expectCoveredForms(suite, manager, calls.filter((c) => c.manager === manager));
  }
}

/**
 * podman asks for nofile 1048576 and nproc 4194304 by default, and above the caller's hard
 * limits that needs CAP_SYS_RESOURCE (not in this machine's bounding set); podman also caps
 * its own nproc (and so the runtime's) at 32768. The containers get what the runtime has.
 */
function podmanUlimits(): string {
  const hard = (flag: string) => Number(check(runtime("bash", ["-c", `ulimit -H${flag}`]), "ulimit").stdout.trim());
  const nofile = hard("n");
  const nproc = Math.min(hard("u"), 32768);
  return `"nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"`;
}

/**
 * podman, rootful, with every path of its own under base/podman and one store for both
 * runtimes: `podman(rt, args)` runs `podman --runtime <rt's recorder> args` in the netns.
 */
export class Podman {
  private readonly dir: string;
  private readonly env: Record<string, string>;

  constructor(private readonly sb: Sandbox) {
    this.dir = sb.dir("podman");
    const net = sb.dir("podman/networks");
    const conf = path.join(this.dir, "containers.conf");
    writeFileSync(
      conf,
      `[containers]
log_driver = "k8s-file"
default_ulimits = [${podmanUlimits()}]
[network]
network_backend = "netavark"
network_config_dir = "${net}"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${this.dir}/events.log"
tmp_dir = "${this.dir}/tmp"
volume_path = "${this.dir}/volumes"
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "runts"]
[engine.runtimes]
runts = ["${sb.wrapper(RT_RUNTS, "podman")}"]
runc = ["${sb.wrapper(RT_RUNC, "podman")}"]
`,
    );
    const storage = path.join(this.dir, "storage.conf");
    writeFileSync(storage, `[storage]\ndriver = "overlay"\ngraphroot = "${this.dir}/root"\nrunroot = "${this.dir}/run"\n`);
    const registries = path.join(this.dir, "registries.conf");
    writeFileSync(registries, `unqualified-search-registries = []\nshort-name-mode = "disabled"\n`);
    this.env = { CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage, CONTAINERS_REGISTRIES_CONF: registries };
    sb.storeMounts.add(path.join(this.dir, "root/overlay"));
    // podman's cgroupfs parent (libpod_parent/conmon, libpod_parent/libpod-<id>) has no setting.
    if (cgroupsMentioning("libpod_parent").length === 0) sb.cgroupParents.add("libpod_parent");
    sb.onCleanup(() => {
      // Containers first (their conmon, netns files and mounts), then the store's own mounts.
      this.raw(["rm", "-af", "-t", "0"], { timeoutMs: 60_000 });
      this.raw(["system", "reset", "-f"], { timeoutMs: 60_000 });
    });
  }

  /** `podman args` with no --runtime (commands on existing containers use the container's). */
  raw(args: string[], opts: RunOptions = {}): RunResult {
    return this.sb.run(["podman", "--root", `${this.dir}/root`, "--runroot", `${this.dir}/run`, ...args], { env: this.env, ...opts });
  }

  /** `podman --runtime <recorder of rt> args`. */
  with(rt: Runtime, args: string[], opts: RunOptions = {}): RunResult {
    return this.raw(["--runtime", this.sb.wrapper(rt, "podman"), ...args], opts);
  }

  load(archive: string): void {
    check(this.raw(["load", "-i", archive]), "podman load");
  }
}

/** A containerd of the sandbox's own (base/containerd), started in its netns. */
export class Containerd {
  readonly dir: string;
  readonly socket: string;
  /** The containerd namespace the tests use (also the first cgroup level: /<ns>/<id>). */
  readonly ns: string;
  daemon: Daemon | null = null;

  constructor(private readonly sb: Sandbox) {
    this.dir = sb.dir("containerd");
    this.socket = path.join(this.dir, "containerd.sock");
    this.ns = sb.netns;
    sb.cgroupParents.add(this.ns);
    writeFileSync(
      path.join(this.dir, "config.toml"),
      `version = 2
root = "${this.dir}/root"
state = "${this.dir}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "${this.socket}"
[ttrpc]
  address = "${this.socket}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${this.dir}/opt"
`,
    );
  }

  async start(): Promise<Daemon> {
    this.daemon = await this.sb.startDaemon("containerd", ["containerd", "--config", path.join(this.dir, "config.toml")], () => {
      return existsSync(this.socket) && this.ctrRaw(["version"], { timeoutMs: 5_000 }).code === 0;
    });
    return this.daemon;
  }

  /** `ctr --address <socket> --namespace <ns> args`. */
  ctrRaw(args: string[], opts: RunOptions = {}): RunResult {
    return runtime("ctr", ["--address", this.socket, "--namespace", this.ns, ...args], { timeoutMs: 60_000, ...opts });
  }

  /** The runtime flags of `ctr run` for rt: its recorder as the shim's runc binary, its own root. */
  runtimeFlags(rt: Runtime): string[] {
    return ["--runc-binary", this.sb.wrapper(rt, "containerd"), "--runc-root", this.sb.dir(`runtime-root/ctr-${rt.name}`)];
  }

  /** `ctr run <runtime flags of rt> args...` (args: ctr run flags, then image, id, command). */
  ctrRun(rt: Runtime, args: string[], opts: RunOptions = {}): RunResult {
    return this.ctrRaw(["run", ...this.runtimeFlags(rt), ...args], opts);
  }

  import(archive: string): void {
    check(this.ctrRaw(["images", "import", archive]), "ctr images import");
  }

  /** Every task and container of the namespace removed (the sandbox's cleanup and the fault test). */
  removeAll(): void {
    const tasks = this.ctrRaw(["tasks", "list", "-q"], { timeoutMs: 10_000 }).stdout.split("\n").filter(Boolean);
    for (const t of tasks) this.ctrRaw(["tasks", "delete", "-f", t], { timeoutMs: 20_000 });
    const ctrs = this.ctrRaw(["containers", "list", "-q"], { timeoutMs: 10_000 }).stdout.split("\n").filter(Boolean);
    for (const c of ctrs) this.ctrRaw(["containers", "delete", c], { timeoutMs: 20_000 });
  }
}

/** A dockerd of the sandbox's own (base/docker) on a Containerd, with runtimes "runts" and "runc-oracle". */
export class Docker {
  readonly dir: string;
  readonly socket: string;
  readonly cgroupParent: string;
  daemon: Daemon | null = null;

  constructor(
    private readonly sb: Sandbox,
    private readonly containerd: Containerd,
  ) {
    this.dir = sb.dir("docker");
    this.socket = path.join(this.dir, "docker.sock");
    this.cgroupParent = `${sb.netns}-docker`;
    sb.cgroupParents.add(this.cgroupParent);
    writeFileSync(path.join(this.dir, "daemon.json"), "{}");
    sb.onCleanup(() => {
      if (!this.daemon?.alive()) return;
      const ids = this.docker(["ps", "-aq"], { timeoutMs: 10_000 }).stdout.split("\n").filter(Boolean);
      if (ids.length > 0) this.docker(["rm", "-f", ...ids], { timeoutMs: 60_000 });
    });
  }

  /** The docker runtime name for rt (docker reserves "runc" for its own). */
  static runtimeName(rt: Runtime): string {
    return rt.name === "runts" ? "runts" : "runc-oracle";
  }

  async start(): Promise<Daemon> {
    const cmd = [
      "dockerd",
      "--data-root", `${this.dir}/root`,
      "--exec-root", `${this.dir}/exec`,
      "--pidfile", `${this.dir}/docker.pid`,
      "--host", `unix://${this.socket}`,
      "--containerd", this.containerd.socket,
      "--config-file", `${this.dir}/daemon.json`,
      "--exec-opt", "native.cgroupdriver=cgroupfs",
      "--cgroup-parent", `/${this.cgroupParent}`,
      "--storage-driver", "overlay2",
      "--log-driver", "json-file",
      "--ip6tables=false",
      "--add-runtime", `runts=${this.sb.wrapper(RT_RUNTS, "docker")}`,
      "--add-runtime", `runc-oracle=${this.sb.wrapper(RT_RUNC, "docker")}`,
    ];
    const containerd = this.containerd.daemon;
    if (!containerd) throw new Error("dockerd needs its containerd started first");
    const ready = () => existsSync(this.socket) && this.docker(["version"], { timeoutMs: 5_000 }).code === 0;
    this.daemon = await this.sb.startDaemon("dockerd", cmd, ready, containerd);
    return this.daemon;
  }

  /** `docker -H <socket> args` (the docker.io client). */
  docker(args: string[], opts: RunOptions = {}): RunResult {
    return runtime(DOCKER, ["--host", `unix://${this.socket}`, ...args], {
      timeoutMs: 60_000,
      ...opts,
      env: { DOCKER_CONFIG: path.join(this.dir, "cli"), ...opts.env },
    });
  }

  /** `docker run --runtime <rt> args`. */
  run(rt: Runtime, args: string[], opts: RunOptions = {}): RunResult {
    return this.docker(["run", "--runtime", Docker.runtimeName(rt), ...args], opts);
  }

  load(archive: string): void {
    check(this.docker(["load", "-i", archive]), "docker load");
  }
}

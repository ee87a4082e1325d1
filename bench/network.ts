/**
 * What runts's networking costs: create -> start -> delete of /bin/true with networking off,
 * on (-p 8080:80 on the default bridge) as the only container (so each create makes the
 * bridge and its nft table and each delete removes them), and on with another networked
 * container holding the bridge (the steady state). Interleaved iterations, medians.
 * Runs inside a throwaway network namespace (`nsenter --net`), as root; compares with
 * `podman run --network bridge` when podman is installed.
 *
 *   node_modules/.bin/bun bench/network.ts       (BENCH_RUNS, default 30)
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUNTS = process.env.RUNTS_BIN ?? path.join(REPO, "dist/runts");
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const NETNS = `runts-bench-net-${process.pid}`;
const work = mkdtempSync("/tmp/runts-bench-net-");
const root = path.join(work, "root");
const PODMAN_IMAGE = `localhost/runts-bench-net-${process.pid}`;

/** stderr goes to a file, never a pipe: the container's init inherits it and would hold it open. */
function must(cmd: string[]): void {
  const errFile = path.join(work, "stderr");
  const fd = openSync(errFile, "w");
  const r = spawnSync(cmd[0]!, cmd.slice(1), { stdio: ["ignore", "ignore", fd] });
  closeSync(fd);
  if (r.status !== 0) throw new Error(`${cmd.join(" ")}: ${readFileSync(errFile, "utf8")}`);
}

/**
 * One runts command in the namespace: wall time and CPU time (user + system of runts and
 * what it waited for), in ms. On this shared 2-core machine the CPU time is the steadier one.
 */
function timed(args: string[]): { wall: number; cpu: number } {
  const errFile = path.join(work, "stderr");
  const t = performance.now();
  const r = Bun.spawnSync(["nsenter", `--net=/run/netns/${NETNS}`, RUNTS, "--root", root, ...args], { stdio: ["ignore", "ignore", Bun.file(errFile)] });
  const wall = performance.now() - t;
  if (!r.success) throw new Error(`runts ${args.join(" ")}: ${readFileSync(errFile, "utf8")}`);
  return { wall, cpu: Number(r.resourceUsage?.cpuTime.total ?? 0) / 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function bundle(name: string, args: string[]): string {
  const dir = path.join(work, name);
  must(["mkdir", "-p", dir]);
  must(["cp", "-a", path.join(work, "rootfs-src"), path.join(dir, "rootfs")]);
  must([RUNTS, "spec", "-b", dir]);
  const config = JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8"));
  config.process.terminal = false;
  config.process.args = args;
  writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
  return dir;
}

try {
  must(["ip", "netns", "add", NETNS]);
  must(["ip", "-n", NETNS, "link", "set", "lo", "up"]);
  // A minimal rootfs: busybox and the /etc files runts mounts over.
  const src = path.join(work, "rootfs-src");
  for (const d of ["bin", "etc", "proc", "sys", "dev", "tmp"]) must(["mkdir", "-p", path.join(src, d)]);
  must(["cp", "/bin/busybox", path.join(src, "bin/busybox")]);
  for (const a of ["sh", "true", "sleep", "nc", "cat"]) must(["ln", "-s", "busybox", path.join(src, "bin", a)]);
  for (const f of ["hosts", "hostname", "resolv.conf"]) writeFileSync(path.join(src, "etc", f), "");
  const b = bundle("b", ["/bin/true"]);
  const holder = bundle("holder", ["/bin/sleep", "1000"]);

  type Mode = "off" | "on, only container" | "on, bridge held";
  const modes: Mode[] = ["off", "on, only container", "on, bridge held"];
  const steps = ["create", "start", "delete"] as const;
  type Times = Record<(typeof steps)[number] | "total", { wall: number[]; cpu: number[] }>;
  const results = new Map<Mode, Times>();
  const empty = () => ({ wall: [] as number[], cpu: [] as number[] });
  for (const m of modes) results.set(m, { create: empty(), start: empty(), delete: empty(), total: empty() });
  for (let i = -3; i < RUNS; i++) {
    for (const m of modes) {
      const id = `bn-${process.pid}-${i + 3}-${modes.indexOf(m)}`;
      if (m === "on, bridge held") timed(["run", "-d", "-b", holder, "--network", "runts0", "holder"]);
      const net = m === "off" ? [] : ["-p", "8080:80"];
      const t = { create: timed(["create", "-b", b, ...net, id]), start: timed(["start", id]), delete: timed(["delete", "-f", id]) };
      if (m === "on, bridge held") timed(["delete", "-f", "holder"]);
      if (i < 0) continue;
      const r = results.get(m)!;
      for (const k of steps) {
        r[k].wall.push(t[k].wall);
        r[k].cpu.push(t[k].cpu);
      }
      r.total.wall.push(t.create.wall + t.start.wall + t.delete.wall);
      r.total.cpu.push(t.create.cpu + t.start.cpu + t.delete.cpu);
    }
  }
  const off = results.get("off")!;
  console.log(`runts create -> start -> delete of /bin/true, ${RUNS} interleaved runs, medians in ms, wall / CPU (this host, load ${os.loadavg()[0]!.toFixed(1)})`);
  console.log(`${"networking".padEnd(20)} ${[...steps, "total"].map((k) => k.padStart(13)).join("")}   create - off`);
  for (const m of modes) {
    const r = results.get(m)!;
    const cells = [...steps, "total" as const].map((k) => `${median(r[k].wall).toFixed(1)} / ${median(r[k].cpu).toFixed(1)}`.padStart(13));
    const d = `${(median(r.create.wall) - median(off.create.wall)).toFixed(1)} / ${(median(r.create.cpu) - median(off.create.cpu)).toFixed(1)}`;
    console.log(`${m.padEnd(20)} ${cells.join("")}   ${d}`);
  }
  if (spawnSync("sh", ["-c", "command -v podman"]).status !== 0) {
    console.log("podman: not installed, so no comparison with `podman run --network bridge`");
  } else {
    // The same busybox rootfs as a local image (podman import: nothing is pulled), run with
    // podman's own bridge networking inside the same throwaway namespace.
    must(["sh", "-c", `tar -C ${src} -c . | podman import -q - ${PODMAN_IMAGE}`]);
    // runc: crun 1.8 refuses this hybrid cgroup host. The rlimits: podman's defaults exceed the hard limits here.
    const walls: number[] = [];
    for (let i = -1; i < Math.min(RUNS, 10); i++) {
      const t = performance.now();
      must(["nsenter", `--net=/run/netns/${NETNS}`, "podman", "--runtime", "/usr/sbin/runc", "run", "--rm", "--network", "bridge", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", PODMAN_IMAGE, "/bin/true"]);
      if (i >= 0) walls.push(performance.now() - t);
    }
    console.log(`podman run --rm --network bridge (create + start + wait + delete): ${median(walls).toFixed(1)} ms wall, median of ${walls.length}`);
  }
} finally {
  spawnSync("nsenter", [`--net=/run/netns/${NETNS}`, RUNTS, "--root", root, "delete", "-f", "holder"]);
  spawnSync("podman", ["rmi", "-f", PODMAN_IMAGE], { stdio: "ignore" });
  spawnSync("ip", ["netns", "del", NETNS]);
  if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}

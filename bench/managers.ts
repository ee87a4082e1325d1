/**
 * The managers' own start-to-finish time with runts vs runc as their runtime, interleaved
 * (runc, runts, runc, ...), medians and ratios:
 *   podman   `podman run --rm --network none busybox true`
 *   ctr      `ctr run --rm <image> <id> true` (containerd's runc v2 shim)
 *   docker   `docker run --rm --network none busybox true`
 * The managers run in a test/lib/managers.ts sandbox (own dirs, daemons, netns) and call the
 * runtimes directly, without the tests' argv recorder. `npm run bench:managers` (root);
 * BENCH_RUNS (default 11). Results: stdout and bench/results/managers-latest.json.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { REPO, type Runtime, RT_RUNC, RT_RUNTS } from "../test/lib/harness";
import { buildImageArchive, check, Containerd, Docker, ensureManagers, IMAGE, Podman, Sandbox } from "../test/lib/managers";

const RUNS = Math.max(10, Number(process.env.BENCH_RUNS ?? 11));
const RUNTIMES = [RT_RUNC, RT_RUNTS];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function timed(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

ensureManagers();
const sb = new Sandbox("bench", false);
const results: Record<string, Record<string, number>> = {};
try {
  const image = buildImageArchive(sb.base);
  const podman = new Podman(sb);
  podman.load(image);
  const ctrd = new Containerd(sb);
  await ctrd.start();
  ctrd.import(image);
  const docker = new Docker(sb, ctrd);
  await docker.start();
  docker.load(image);

  let seq = 0;
  const scenarios: Record<string, (rt: Runtime) => void> = {
    podman: (rt) => check(podman.with(rt, ["run", "--rm", "--network", "none", "busybox", "true"]), "podman run"),
    ctr: (rt) => check(ctrd.ctrRun(rt, ["--rm", IMAGE, `bench-${++seq}`, "true"]), "ctr run"),
    docker: (rt) => check(docker.run(rt, ["--rm", "--network", "none", "busybox", "true"]), "docker run"),
  };
  for (const [name, run] of Object.entries(scenarios)) {
    const times: Record<string, number[]> = { runc: [], runts: [] };
    for (const rt of RUNTIMES) run(rt); // warm-up
    for (let i = 0; i < RUNS; i++) for (const rt of RUNTIMES) times[rt.name]!.push(timed(() => run(rt)));
    const m = { runc: median(times.runc!), runts: median(times.runts!) };
    results[name] = { runcMs: m.runc, runtsMs: m.runts, ratio: m.runts / m.runc };
    console.log(`${name.padEnd(7)} runc ${m.runc.toFixed(1)} ms  runts ${m.runts.toFixed(1)} ms  ratio ${(m.runts / m.runc).toFixed(2)}x  (median of ${RUNS})`);
  }
} finally {
  const left = await sb.destroy();
  if (left.length) console.error(`bench: left behind: ${left.join(", ")}`);
}
writeFileSync(path.join(REPO, "bench/results/managers-latest.json"), `${JSON.stringify({ runs: RUNS, results }, null, 2)}\n`);

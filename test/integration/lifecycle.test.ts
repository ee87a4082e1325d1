/**
 * The container lifecycle, the way runc's bats suite exercises it: create/start/state/kill/
 * delete, run in the foreground and detached (--keep, -b from another cwd, --no-pivot),
 * pause/resume, ps, list, spec, state annotations, --root, --log (json, text, --debug), an empty
 * environment, --preserve-fds, unsupported global flags, what the container sees from inside,
 * concurrent creates and cleanup of a half-made container. Most tests run against runts and against runc (the oracle), so a test
 * that fails only for runts documents a difference from runc.
 */
import { describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  cgroupV2Root,
  containerState,
  leftovers,
  probeInfo,
  type ProbeInfo,
  ROOTS,
  RT_RUNC,
  RT_RUNTS,
  type Runtime,
  runtime,
  type SpawnedRuntime,
  spawnRuntime,
  uniqueId,
  waitFor,
} from "../lib/harness";
import { type Bundle } from "../lib/rootfs";
import { testScope } from "../lib/scope";

const RUNTIMES: Runtime[] = [RT_RUNTS, RT_RUNC];

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

const scope = testScope("lc");
const { newId, newBundle, hostPath, defer } = scope;

function bundleWith(config: (c: any) => void, rootfs: "copy" | "shared" = "shared"): Bundle {
  return newBundle({ rootfs, config });
}

/** A bundle whose init waits for a signal (probe pause), optionally with a ready file in a writable rootfs. */
function pauseBundle(readyFile = false): Bundle {
  if (!readyFile) return bundleWith((c) => (c.process.args = ["/bin/probe", "pause"]));
  return bundleWith((c) => {
    c.process.args = ["/bin/probe", "pause", "/tmp/ready"];
    c.root.readonly = false;
  }, "copy");
}

function tmpDir(prefix: string): string {
  return hostPath(mkdtempSync(path.join(tmpdir(), prefix)));
}

function rt$(rt: Runtime, args: string[], opts: Parameters<typeof runtime>[2] = {}) {
  return runtime(rt.bin, ["--root", rt.root, ...args], opts);
}

/** `delete ID` succeeds silently and leaves neither state nor anything else of the container. */
function expectDeleted(rt: Runtime, id: string): void {
  const d = rt$(rt, ["delete", id]);
  expect(d.stderr).toBe("");
  expect(d.code).toBe(0);
  expect(containerState(rt.bin, rt.root, id)).toBeNull();
  expect(leftovers(id, rt.root)).toEqual([]);
}

function status(rt: Runtime, id: string): string | undefined {
  return containerState(rt.bin, rt.root, id)?.status;
}

async function waitStatus(rt: Runtime, id: string, want: string, timeoutMs = 10_000): Promise<void> {
  let last: string | undefined;
  try {
    await waitFor(`${rt.name} container ${id} to be ${want}`, () => (last = status(rt, id)) === want, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message} (last status: ${last})`);
  }
}

/**
 * Waits until `cond` holds while the background runtime `run` is still going; if `run` exits
 * first, fails showing its exit status and stderr.
 */
async function waitWhileRunning(run: SpawnedRuntime, what: string, cond: () => boolean): Promise<void> {
  await waitFor(what, () => cond() || run.done());
  if (!cond()) {
    const r = await run.result;
    throw new Error(`while waiting for ${what}, the runtime exited (status ${r.code}, signal ${r.signal}): ${r.stderr.trim()}`);
  }
}

function psPids(rt: Runtime, id: string): number[] {
  const r = rt$(rt, ["ps", "--format", "json", id]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as number[];
}

function alive(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\S+ \(.*\) [ZX] /.test(st);
  } catch {
    return false;
  }
}

/** Per test; the runtime calls inside have their own shorter timeouts. */
const TEST_TIMEOUT_MS = 60_000;

for (const rt of RUNTIMES) {
  describe(`lifecycle (${rt.name})`, () => {
    test("create --pid-file, state created, start, state running, kill, state stopped, delete", async () => {
      const id = newId(rt);
      const b = pauseBundle();
      const pidDir = tmpDir("runts-pidfile-");
      const pidFile = path.join(pidDir, "init.pid");
      const t0 = Date.now();

      const c = rt$(rt, ["create", "--pid-file", pidFile, "--bundle", b.dir, id]);
      expect(c.stderr).toBe("");
      expect(c.code).toBe(0);

      // The pid file holds the init's host pid and nothing else; it was renamed into place
      // (no temporary file left next to it).
      const pidText = readFileSync(pidFile, "utf8");
      expect(pidText).toMatch(/^\d+$/);
      const pid = Number(pidText);
      expect(readdirSync(pidDir)).toEqual(["init.pid"]);

      const st = containerState(rt.bin, rt.root, id);
      expect(st).not.toBeNull();
      expect(st!.status).toBe("created");
      expect(st!.id).toBe(id);
      expect(st!.pid).toBeGreaterThan(0);
      expect(st!.pid).toBe(pid);
      expect(alive(pid)).toBe(true);
      expect(st!.bundle).toBe(b.dir);
      expect(st!.rootfs).toBe(b.rootfs);
      expect(st!.ociVersion).toMatch(/^\d+\.\d+\.\d+/);
      expect(st!.created).toMatch(ISO_TIME);
      const created = Date.parse(st!.created);
      expect(created).toBeGreaterThanOrEqual(t0 - 2000);
      expect(created).toBeLessThanOrEqual(Date.now() + 2000);
      expect(typeof st!.owner).toBe("string");
      expect(psPids(rt, id)).toEqual([pid]);

      const s = rt$(rt, ["start", id]);
      expect(s.stderr).toBe("");
      expect(s.code).toBe(0);
      expect(status(rt, id)).toBe("running");
      expect(containerState(rt.bin, rt.root, id)!.pid).toBe(pid);
      expect(psPids(rt, id)).toEqual([pid]);

      const k = rt$(rt, ["kill", id, "KILL"]);
      expect(k.stderr).toBe("");
      expect(k.code).toBe(0);
      await waitStatus(rt, id, "stopped");
      expect(containerState(rt.bin, rt.root, id)!.pid).toBe(0);

      expectDeleted(rt, id);
    }, TEST_TIMEOUT_MS);

    test("every create records the init's pid (40 creates in a row)", () => {
      const b = pauseBundle();
      const pidDir = tmpDir("runts-pidfile-");
      const bad: string[] = [];
      for (let i = 0; i < 40; i++) {
        const id = newId(rt, "rep");
        const pidFile = path.join(pidDir, `${i}.pid`);
        const c = rt$(rt, ["create", "--pid-file", pidFile, "--bundle", b.dir, id]);
        const st = containerState(rt.bin, rt.root, id);
        const pid = existsSync(pidFile) ? readFileSync(pidFile, "utf8") : "(none)";
        if (c.code !== 0 || st?.status !== "created" || !(st.pid > 0) || pid !== String(st.pid) || !alive(st.pid)) {
          bad.push(`#${i}: create exit ${c.code} ${c.stderr.trim()}; state ${JSON.stringify(st && { status: st.status, pid: st.pid })}; pid file ${pid}`);
        }
        expect(rt$(rt, ["delete", "--force", id]).code).toBe(0);
        expect(leftovers(id, rt.root)).toEqual([]);
      }
      expect(bad).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test("run in the foreground: the container's exit status is the runtime's, and the container is removed", () => {
      const id = newId(rt);
      const b = bundleWith((c) => (c.process.args = ["/bin/probe", "exit", "7"]));
      const r = rt$(rt, ["run", "--bundle", b.dir, id]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(7);
      expect(containerState(rt.bin, rt.root, id)).toBeNull();
      expect(leftovers(id, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test("run in the foreground, container killed from outside with SIGKILL: exit status 137", async () => {
      const id = newId(rt);
      const b = pauseBundle();
      const run = spawnRuntime(rt.bin, ["--root", rt.root, "run", "--bundle", b.dir, id]);
      await waitWhileRunning(run, "the container to be running", () => status(rt, id) === "running");
      const k = rt$(rt, ["kill", id, "KILL"]);
      expect(k.stderr).toBe("");
      expect(k.code).toBe(0);
      const r = await run.result;
      expect(r.stderr).toBe("");
      expect(r.code).toBe(137);
      expect(leftovers(id, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test("run in the foreground forwards SIGUSR1 to the container's init", async () => {
      const id = newId(rt);
      const b = pauseBundle(true);
      const ready = path.join(b.rootfs, "tmp/ready");
      const run = spawnRuntime(rt.bin, ["--root", rt.root, "run", "--bundle", b.dir, id]);
      await waitWhileRunning(run, "probe pause to install its handlers", () => existsSync(ready));
      run.signal("SIGUSR1");
      const r = await run.result;
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("signal 10\n");
      expect(r.code).toBe(110);
      expect(leftovers(id, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    for (const [sig, code, out] of [
      ["KILL", 137, ""],
      ["SIGKILL", 137, ""],
      ["9", 137, ""],
      [undefined, 115, "signal 15\n"],
      ["TERM", 115, "signal 15\n"],
      ["sigusr2", 112, "signal 12\n"],
    ] as const) {
      test(`kill ${sig ?? "(default signal)"} reaches the init (foreground run exits ${code})`, async () => {
        const id = newId(rt);
        const b = pauseBundle(true);
        const ready = path.join(b.rootfs, "tmp/ready");
        const run = spawnRuntime(rt.bin, ["--root", rt.root, "run", "--bundle", b.dir, id]);
        await waitWhileRunning(run, "probe pause to install its handlers", () => existsSync(ready));
        const k = rt$(rt, ["kill", id, ...(sig === undefined ? [] : [sig])]);
        expect(k.stderr).toBe("");
        expect(k.code).toBe(0);
        const r = await run.result;
        expect(r.stderr).toBe("");
        expect(r.stdout).toBe(out);
        expect(r.code).toBe(code);
        expect(leftovers(id, rt.root)).toEqual([]);
      }, TEST_TIMEOUT_MS);
    }

    test("run -d, ps, pause, resume, kill, delete", async () => {
      const id = newId(rt);
      const b = pauseBundle();
      const pidFile = path.join(tmpDir("runts-pidfile-"), "pid");
      const r = rt$(rt, ["run", "-d", "--pid-file", pidFile, "--bundle", b.dir, id]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const pid = Number(readFileSync(pidFile, "utf8"));
      expect(pid).toBeGreaterThan(0);

      const st = containerState(rt.bin, rt.root, id)!;
      expect(st.status).toBe("running");
      expect(st.pid).toBe(pid);
      expect(psPids(rt, id)).toContain(pid);

      const p = rt$(rt, ["pause", id]);
      expect(p.stderr).toBe("");
      expect(p.code).toBe(0);
      expect(status(rt, id)).toBe("paused");

      const u = rt$(rt, ["resume", id]);
      expect(u.stderr).toBe("");
      expect(u.code).toBe(0);
      expect(status(rt, id)).toBe("running");

      const k = rt$(rt, ["kill", id, "KILL"]);
      expect(k.code).toBe(0);
      await waitStatus(rt, id, "stopped");
      const d = rt$(rt, ["delete", id]);
      expect(d.stderr).toBe("");
      expect(d.code).toBe(0);
      expect(leftovers(id, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test("kill --all signals every process in the container, kill only the init", async () => {
      const id = newId(rt);
      // sh as pid 1 has no TERM handler, so TERM from outside the pid namespace does not reach it;
      // its two children die of TERM only when it is sent to all processes.
      const b = bundleWith((c) => (c.process.args = ["/bin/sh", "-c", "sleep 1000 & sleep 1000 & wait; exec /bin/probe pause"]));
      const r = rt$(rt, ["run", "-d", "--bundle", b.dir, id]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const pid = containerState(rt.bin, rt.root, id)!.pid as number;
      await waitFor("3 processes in the container", () => psPids(rt, id).length === 3);

      const k1 = rt$(rt, ["kill", id, "TERM"]);
      expect(k1.stderr).toBe("");
      expect(k1.code).toBe(0);
      await Bun.sleep(200); // nothing may happen: give a wrongly delivered signal time to act
      expect(psPids(rt, id).length).toBe(3);

      const k2 = rt$(rt, ["kill", "--all", id, "TERM"]);
      expect(k2.stderr).toBe("");
      expect(k2.code).toBe(0);
      await waitFor("only the init left", () => psPids(rt, id).length === 1);
      expect(psPids(rt, id)).toEqual([pid]);
      expect(status(rt, id)).toBe("running");

      expect(rt$(rt, ["kill", "-a", id, "KILL"]).code).toBe(0);
      await waitStatus(rt, id, "stopped");
      expect(rt$(rt, ["delete", id]).code).toBe(0);
      expect(leftovers(id, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test("delete of a running container without --force fails and leaves it running; delete --force removes it", () => {
      const id = newId(rt);
      const b = pauseBundle();
      expect(rt$(rt, ["run", "-d", "--bundle", b.dir, id]).code).toBe(0);
      const pid = containerState(rt.bin, rt.root, id)!.pid as number;

      const d = rt$(rt, ["delete", id]);
      expect(d.code).not.toBe(0);
      expect(d.stderr.trim().split("\n")).toHaveLength(1);
      expect(d.stderr).toMatch(/running/);
      expect(status(rt, id)).toBe("running");
      expect(alive(pid)).toBe(true);

      const f = rt$(rt, ["delete", "--force", id]);
      expect(f.stderr).toBe("");
      expect(f.code).toBe(0);
      expect(containerState(rt.bin, rt.root, id)).toBeNull();
      expect(alive(pid)).toBe(false);
      expect(leftovers(id, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test("delete of a created (never started) container removes it", () => {
      const id = newId(rt);
      const b = pauseBundle();
      expect(rt$(rt, ["create", "--bundle", b.dir, id]).code).toBe(0);
      const pid = containerState(rt.bin, rt.root, id)!.pid as number;
      expect(alive(pid)).toBe(true);
      const d = rt$(rt, ["delete", id]);
      expect(d.stderr).toBe("");
      expect(d.code).toBe(0);
      expect(containerState(rt.bin, rt.root, id)).toBeNull();
      expect(alive(pid)).toBe(false);
      expect(leftovers(id, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test("device nodes and /dev symlinks", () => {
      const id = newId(rt);
      const nodes = { "/dev/null": [1, 3], "/dev/zero": [1, 5], "/dev/full": [1, 7], "/dev/random": [1, 8], "/dev/urandom": [1, 9], "/dev/tty": [5, 0] };
      const links = { "/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0", "/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2", "/dev/ptmx": "pts/ptmx" };
      const b = bundleWith((c) => (c.process.args = ["/bin/probe", "stat", ...Object.keys(nodes), ...Object.keys(links)]));
      const r = rt$(rt, ["run", "--bundle", b.dir, id]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const stats = JSON.parse(r.stdout) as any[];
      const byPath = Object.fromEntries(stats.map((s) => [s.path, s]));
      for (const [p, [major, minor]] of Object.entries(nodes)) {
        expect({ p, ...byPath[p] }).toMatchObject({ p, exists: true, type: "chr", mode: "0666", uid: 0, gid: 0, major, minor });
      }
      for (const [p, target] of Object.entries(links)) {
        expect({ p, ...byPath[p] }).toMatchObject({ p, exists: true, type: "link", target });
      }
      expect(leftovers(id, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test("--root=DIR and --root DIR name the same state root", () => {
      const id = newId(rt);
      const b = pauseBundle();
      const c = runtime(rt.bin, [`--root=${rt.root}`, "create", "--bundle", b.dir, id]);
      expect(c.stderr).toBe("");
      expect(c.code).toBe(0);
      expect(existsSync(path.join(rt.root, id))).toBe(true);
      expect(runtime(rt.bin, ["--root", rt.root, "state", id]).code).toBe(0);
      expect(JSON.parse(runtime(rt.bin, [`--root=${rt.root}`, "state", id]).stdout).status).toBe("created");
      expect(runtime(rt.bin, [`--root=${rt.root}`, "delete", id]).code).toBe(0);
      expect(leftovers(id, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test("--log FILE --log-format json: JSON lines with level, msg, time; the last error says what failed", () => {
      const logFile = path.join(tmpDir("runts-log-"), "log.json");
      const id = `nonexistent-${uniqueId()}`;
      const r = runtime(rt.bin, ["--root", rt.root, "--log", logFile, "--log-format", "json", "start", id]);
      expect(r.code).not.toBe(0);
      const lines = readFileSync(logFile, "utf8").split("\n").filter(Boolean);
      expect(lines.length).toBeGreaterThan(0);
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const e of entries) {
        expect(typeof e.level).toBe("string");
        expect(typeof e.msg).toBe("string");
        expect(e.time).toMatch(ISO_TIME);
      }
      const lastError = entries.filter((e) => e.level === "error").pop();
      expect(lastError).toBeDefined();
      expect(lastError!.msg).toMatch(/does not exist/);
    }, TEST_TIMEOUT_MS);

    test("--log FILE --log-format text: runc-style lines time=\"...\" level=... msg=\"...\"", () => {
      const logFile = path.join(tmpDir("runts-log-"), "log.txt");
      const id = `nonexistent-${uniqueId()}`;
      const r = runtime(rt.bin, ["--root", rt.root, "--log", logFile, "--log-format", "text", "state", id]);
      expect(r.code).not.toBe(0);
      const lines = readFileSync(logFile, "utf8").split("\n").filter(Boolean);
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(l).toMatch(/^time="[^"]+" level=(debug|info|warning|error) msg=".*"$/);
      const last = lines.filter((l) => l.includes(" level=error ")).pop()!;
      expect(last).toMatch(/msg=".*does not exist.*"$/);
      expect(/^time="([^"]+)"/.exec(last)![1]).toMatch(ISO_TIME);
    }, TEST_TIMEOUT_MS);

    test("--debug --log FILE: create writes debug lines to the file, none to stderr", () => {
      const logFile = path.join(tmpDir("runts-log-"), "log.txt");
      const id = newId(rt);
      const b = pauseBundle();
      const c = runtime(rt.bin, ["--root", rt.root, "--debug", "--log", logFile, "create", "--bundle", b.dir, id]);
      expect(c.stderr).toBe("");
      expect(c.code).toBe(0);
      const debug = readFileSync(logFile, "utf8").split("\n").filter((l) => / level=debug /.test(l));
      expect(debug.length).toBeGreaterThan(0);
      if (rt.name === "runts") {
        const pid = containerState(rt.bin, rt.root, id)!.pid as number;
        const cgroup = `${cgroupV2Root()}/${id}`;
        for (const want of [
          `msg="create ${id}: loaded ${b.dir}/config.json (ociVersion ${b.config.ociVersion})"`,
          `msg="create ${id}: cgroup ${cgroup}"`,
          `msg="create ${id}: container init pid ${pid}"`,
          `msg="create ${id}: created, waiting on exec.fifo"`,
        ]) {
          expect({ want, found: debug.some((l) => l.endsWith(want)) }).toEqual({ want, found: true });
        }
        expect(debug.some((l) => /msg="started runts-init, pid \d+"$/.test(l))).toBe(true);
      }
      expect(rt$(rt, ["delete", id]).code).toBe(0);
      expect(leftovers(id, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test("run --keep: the exited container stays, stopped with pid 0, until delete removes it", () => {
      const id = newId(rt);
      const b = bundleWith((c) => (c.process.args = ["/bin/probe", "exit", "3"]));
      const r = rt$(rt, ["run", "--keep", "--bundle", b.dir, id]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(3);
      const st = containerState(rt.bin, rt.root, id);
      expect(st).toMatchObject({ id, status: "stopped", pid: 0, bundle: b.dir });
      // the state dir and (in both runtimes) the empty cgroup stay, no process does
      expect(leftovers(id, rt.root).filter((l) => !l.startsWith("cgroup "))).toEqual([`state dir ${path.join(rt.root, id)}`]);
      expectDeleted(rt, id);
    }, TEST_TIMEOUT_MS);

    test("run -b DIR from another cwd: relative to that cwd, and absolute", () => {
      const b = pauseBundle();
      const id = newId(rt);
      const rel = rt$(rt, ["run", "-d", "-b", path.basename(b.dir), id], { cwd: path.dirname(b.dir) });
      expect(rel.stderr).toBe("");
      expect(rel.code).toBe(0);
      expect(containerState(rt.bin, rt.root, id)).toMatchObject({ status: "running", bundle: b.dir, rootfs: b.rootfs });
      expect(rt$(rt, ["delete", "--force", id]).code).toBe(0);

      const probe = bundleWith(() => {});
      const id2 = newId(rt);
      const abs = rt$(rt, ["run", "-b", probe.dir, id2], { cwd: "/" });
      expect(abs.stderr).toBe("");
      expect(abs.code).toBe(0);
      expect(probeInfo(abs.stdout).exe).toBe("/bin/probe");
      expect(leftovers(id, rt.root)).toEqual([]);
      expect(leftovers(id2, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test("called by absolute path from cwd / with an empty environment: create, start, state, kill, delete", async () => {
      const id = newId(rt);
      const b = pauseBundle();
      const bare = (args: string[]) => runtime(rt.bin, ["--root", rt.root, ...args], { cwd: "/", env: {}, inheritEnv: false });
      const bareState = () => {
        const r = bare(["state", id]);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
        return JSON.parse(r.stdout) as Record<string, any>;
      };
      for (const args of [["create", "--bundle", b.dir, id], ["start", id]]) {
        const r = bare(args);
        expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: "" });
      }
      expect(bareState()).toMatchObject({ id, status: "running", bundle: b.dir });
      const k = bare(["kill", id, "KILL"]);
      expect({ code: k.code, stderr: k.stderr }).toEqual({ code: 0, stderr: "" });
      await waitFor("the container to stop", () => bareState().status === "stopped");
      const d = bare(["delete", id]);
      expect({ code: d.code, stderr: d.stderr }).toEqual({ code: 0, stderr: "" });
      expect(bare(["state", id]).code).not.toBe(0);
      expect(leftovers(id, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test("state shows config.json's annotations exactly, and none when there are none", () => {
      const annotations = { "org.example.key": "value", "com.example/with space": 'a = "quoted" \\ value', empty: "" };
      const id = newId(rt);
      const b = bundleWith((c) => {
        c.process.args = ["/bin/probe", "pause"];
        c.annotations = annotations;
      });
      expect(rt$(rt, ["create", "--bundle", b.dir, id]).code).toBe(0);
      const st = containerState(rt.bin, rt.root, id)!;
      expect(st.annotations).toEqual(annotations);
      expect(Object.keys(st)).toEqual(["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations", "owner"]);
      const plain = newId(rt);
      expect(rt$(rt, ["create", "--bundle", pauseBundle().dir, plain]).code).toBe(0);
      expect("annotations" in containerState(rt.bin, rt.root, plain)!).toBe(false);
      for (const i of [id, plain]) {
        expect(rt$(rt, ["delete", i]).code).toBe(0);
        expect(leftovers(i, rt.root)).toEqual([]);
      }
    }, TEST_TIMEOUT_MS);

    test("--no-pivot: the container is in its rootfs and cannot reach the host's root", () => {
      const hostMarker = `/tmp/runts-nopivot-host-${uniqueId()}`;
      writeFileSync(hostMarker, "");
      defer(() => rmSync(hostMarker, { force: true }));
      const b = bundleWith((c) => {
        c.process.args = ["/bin/sh", "-c", `/bin/probe stat /rootfs-marker /../../rootfs-marker ${hostMarker} /../..${hostMarker} /work ${rt.root}; exec /bin/probe info`];
      }, "copy");
      writeFileSync(path.join(b.rootfs, "rootfs-marker"), "");
      const id = newId(rt);
      const r = rt$(rt, ["run", "--no-pivot", "--bundle", b.dir, id]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const stats = JSON.parse(r.stdout.split("\n").find((l) => l.startsWith("["))!) as { path: string; exists: boolean }[];
      expect(stats.filter((st) => st.exists).map((st) => st.path)).toEqual(["/rootfs-marker", "/../../rootfs-marker"]);
      const info = probeInfo(r.stdout);
      expect(info.exe).toBe("/bin/probe");
      expect(info.cwd).toBe("/");
      expect(info.mounts[0]!.mountPoint).toBe("/");
      expect(info.mounts.filter((m) => m.mountPoint === "/")).toHaveLength(1);
      expect(leftovers(id, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test("spec writes a config.json and refuses to overwrite one", () => {
      const dir = tmpDir("runts-spec-");
      const r = runtime(rt.bin, ["spec"], { cwd: dir });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const file = path.join(dir, "config.json");
      const text = readFileSync(file, "utf8");
      const spec = JSON.parse(text);
      expect(spec.ociVersion).toMatch(/^\d+\.\d+\.\d+/);
      expect(spec.root).toEqual({ path: "rootfs", readonly: true });
      expect(spec.process.args).toEqual(["sh"]);

      const bdir = tmpDir("runts-spec-");
      const rb = runtime(rt.bin, ["spec", "--bundle", bdir]);
      expect(rb.code).toBe(0);
      expect(existsSync(path.join(bdir, "config.json"))).toBe(true);

      writeFileSync(file, "{}\n");
      const again = runtime(rt.bin, ["spec"], { cwd: dir });
      expect(again.code).not.toBe(0);
      expect(again.stderr).toMatch(/exists/);
      expect(readFileSync(file, "utf8")).toBe("{}\n");
    }, TEST_TIMEOUT_MS);

    test("list and list --format json show the containers under --root", () => {
      // A private state root: other test runs may be using the shared one right now.
      const priv: Runtime = { ...rt, root: path.join(tmpDir("runts-root-"), "state") };
      const id = newId(priv);
      const b = pauseBundle();
      expect(rt$(priv, ["create", "--bundle", b.dir, id]).code).toBe(0);
      const pid = containerState(priv.bin, priv.root, id)!.pid as number;

      const t = rt$(priv, ["list"]);
      expect(t.stderr).toBe("");
      expect(t.code).toBe(0);
      // The columns are padded with spaces; runc 1.1.5 shows the state dir owner's name ("root").
      const rows = t.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/));
      expect(rows[0]).toEqual(["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]);
      const row = rows.find((cols) => cols[0] === id);
      expect(row).toBeDefined();
      expect(row!.slice(0, 4)).toEqual([id, String(pid), "created", b.dir]);
      expect(row![5]).toBe("root");

      const j = rt$(priv, ["list", "--format", "json"]);
      expect(j.stderr).toBe("");
      expect(j.code).toBe(0);
      const list = JSON.parse(j.stdout) as any[];
      expect(list.map((e) => e.id)).toEqual([id]);
      const entry = list[0];
      expect(entry).toMatchObject({ id, pid, status: "created", bundle: b.dir, rootfs: b.rootfs, owner: "root" });
      expect(entry.created).toMatch(ISO_TIME);

      const q = rt$(priv, ["list", "-q"]);
      expect(q.code).toBe(0);
      expect(q.stdout).toBe(`${id}\n`);

      expect(rt$(priv, ["delete", id]).code).toBe(0);
      const after = rt$(priv, ["list", "--format", "json"]);
      expect(after.code).toBe(0);
      expect(JSON.parse(after.stdout || "null") ?? []).toEqual([]);
      expect(leftovers(id, priv.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test("--preserve-fds 1 passes fd 3 into the container and nothing else", async () => {
      const dir = tmpDir("runts-fds-");
      const f3 = openSync(path.join(dir, "three"), "w");
      const f4 = openSync(path.join(dir, "four"), "w");
      defer(() => closeSync(f3));
      defer(() => closeSync(f4));
      const b = bundleWith(() => {});

      const id1 = newId(rt);
      const r1 = await spawnRuntime(rt.bin, ["--root", rt.root, "run", "--preserve-fds", "1", "--bundle", b.dir, id1], { extraFds: [f3, f4] }).result;
      expect(r1.stderr).toBe("");
      expect(r1.code).toBe(0);
      const fds1 = probeInfo(r1.stdout).fds;
      expect(fds1.map((f) => f.fd)).toEqual([0, 1, 2, 3]);
      expect(fds1[3]!.target).toMatch(/three$/);
      expect(leftovers(id1, rt.root)).toEqual([]);

      const id2 = newId(rt);
      const r2 = await spawnRuntime(rt.bin, ["--root", rt.root, "run", "--bundle", b.dir, id2], { extraFds: [f3, f4] }).result;
      expect(r2.stderr).toBe("");
      expect(r2.code).toBe(0);
      expect(probeInfo(r2.stdout).fds.map((f) => f.fd)).toEqual([0, 1, 2]);
      expect(leftovers(id2, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    // runts only: runc 1.1.5 itself loses these races now and then (both creates fail, and it
    // leaks a "runc init" process and its cgroups), so it cannot serve as the oracle here.
    if (rt.name === "runts") test("two concurrent creates of one id: exactly one succeeds, the other fails without touching it", async () => {
      const b = pauseBundle();
      for (let i = 0; i < 10; i++) {
        const id = newId(rt, "race");
        const args = ["--root", rt.root, "create", "--bundle", b.dir, id];
        const [r1, r2] = await Promise.all([spawnRuntime(rt.bin, args).result, spawnRuntime(rt.bin, args).result]);
        const ok = [r1, r2].filter((r) => r.code === 0);
        const failed = [r1, r2].filter((r) => r.code !== 0);
        expect(ok).toHaveLength(1);
        expect(failed).toHaveLength(1);
        expect(ok[0]!.stderr).toBe("");
        expect(failed[0]!.stderr.trim().split("\n")).toHaveLength(1);
        expect(failed[0]!.stderr).toMatch(/already exists/);

        const st = containerState(rt.bin, rt.root, id)!;
        expect(st.status).toBe("created");
        expect(alive(st.pid)).toBe(true);
        expect(psPids(rt, id)).toEqual([st.pid]);
        expect(rt$(rt, ["start", id]).code).toBe(0);
        expect(status(rt, id)).toBe("running");
        expect(rt$(rt, ["delete", "--force", id]).code).toBe(0);
        expect(leftovers(id, rt.root)).toEqual([]);
      }
    }, TEST_TIMEOUT_MS);

    if (rt.name === "runts") test("a create of an id whose create is still in progress fails at once and does not disturb it", async () => {
      const id = newId(rt);
      const marker = path.join(tmpDir("runts-hook-"), "hook-running");
      const release = `${marker}.release`;
      // The first create waits in its createRuntime hook until the test lets it go.
      const b = bundleWith((c) => {
        c.process.args = ["/bin/probe", "pause"];
        c.hooks = { createRuntime: [{ path: "/bin/sh", args: ["sh", "-c", `touch ${marker}; while [ ! -e ${release} ]; do sleep 0.02; done`], timeout: 30 }] };
      });
      const first = spawnRuntime(rt.bin, ["--root", rt.root, "create", "--bundle", b.dir, id]);
      scope.release(() => writeFileSync(release, ""));
      await waitWhileRunning(first, "the first create's hook to run", () => existsSync(marker));

      const second = rt$(rt, ["create", "--bundle", b.dir, id], { timeoutMs: 5000 });
      expect(second.timedOut).toBe(false);
      expect(second.code).not.toBe(0);
      expect(second.stderr.trim().split("\n")).toHaveLength(1);
      expect(second.stderr).toMatch(/already exists/);

      writeFileSync(release, "");
      const r = await first.result;
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const st = containerState(rt.bin, rt.root, id)!;
      expect(st.status).toBe("created");
      expect(alive(st.pid)).toBe(true);
      expect(rt$(rt, ["delete", id]).code).toBe(0);
      expect(leftovers(id, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    test("a second create of an existing id fails with a clear message and leaves the first alone", () => {
      const id = newId(rt);
      const b = pauseBundle();
      expect(rt$(rt, ["create", "--bundle", b.dir, id]).code).toBe(0);
      const before = containerState(rt.bin, rt.root, id)!;
      const again = rt$(rt, ["create", "--bundle", b.dir, id]);
      expect(again.code).not.toBe(0);
      expect(again.stderr.trim().split("\n")).toHaveLength(1);
      expect(again.stderr).toMatch(/already exists/);
      const after = containerState(rt.bin, rt.root, id)!;
      expect(after).toEqual(before);
      expect(alive(after.pid)).toBe(true);
      expect(rt$(rt, ["delete", id]).code).toBe(0);
      expect(leftovers(id, rt.root)).toEqual([]);
    }, TEST_TIMEOUT_MS);
  });
}

describe("what the container sees (runts, compared with runc)", () => {
  function runInfo(rt: Runtime, b: Bundle): ProbeInfo {
    const id = newId(rt, "in");
    const r = rt$(rt, ["run", "--bundle", b.dir, id]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(leftovers(id, rt.root)).toEqual([]);
    return probeInfo(r.stdout);
  }

  test("probe info inside a default container", () => {
    const b = bundleWith((c) => (c.hostname = "lifecycle-host"));
    const info = runInfo(RT_RUNTS, b);
    expect(info.pid).toBe(1);
    expect(info.ppid).toBe(0);
    expect(info.hostname).toBe("lifecycle-host");
    expect(info.uid).toBe(0);
    expect(info.gid).toBe(0);
    expect(info.exe).toBe("/bin/probe");
    expect(info.fds.map((f) => f.fd)).toEqual([0, 1, 2]);
    const fsAt = (mp: string) => info.mounts.filter((m) => m.mountPoint === mp).pop()?.fsType;
    expect(fsAt("/proc")).toBe("proc");
    expect(fsAt("/dev")).toBe("tmpfs");
    expect(fsAt("/dev/pts")).toBe("devpts");
    expect(fsAt("/dev/shm")).toBe("tmpfs");
    expect(fsAt("/dev/mqueue")).toBe("mqueue");
    expect(fsAt("/sys")).toBe("sysfs");
    expect(fsAt("/sys/fs/cgroup")).toBeDefined();
    expect(info.mounts[0]!.mountPoint).toBe("/");
    expect(runInfo(RT_RUNC, b).hostname).toBe("lifecycle-host");
  }, TEST_TIMEOUT_MS);

  test("same identity, capabilities and mount points as under runc", () => {
    const b = bundleWith(() => {});
    const runts = runInfo(RT_RUNTS, b);
    const runc = runInfo(RT_RUNC, b);
    for (const k of ["pid", "ppid", "uid", "gid", "euid", "egid", "groups", "hostname", "cwd", "exe", "noNewPrivs", "umask"] as const) {
      expect({ k, v: runts[k] }).toEqual({ k, v: runc[k] });
    }
    expect(runts.caps).toEqual(runc.caps);
    // runc mounts one v1 hierarchy per controller under /sys/fs/cgroup on this hybrid host; runts
    // uses cgroup v2. Everything else must match.
    const points = (i: ProbeInfo) => i.mounts.map((m) => m.mountPoint).filter((p) => !p.startsWith("/sys/fs/cgroup/")).sort();
    expect(points(runts)).toEqual(points(runc));
  }, TEST_TIMEOUT_MS);

  test("no host paths are visible inside", () => {
    const b = bundleWith(() => {});
    b.config.process.args = ["/bin/probe", "stat", "/work", "/work/main", ROOTS.runts, b.dir, "/tmp/" + path.basename(b.dir)];
    b.write();
    const id = newId(RT_RUNTS, "in");
    const r = rt$(RT_RUNTS, ["run", "--bundle", b.dir, id]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const stats = JSON.parse(r.stdout) as { path: string; exists: boolean }[];
    expect(stats.filter((s) => s.exists).map((s) => s.path)).toEqual([]);
    expect(leftovers(id, RT_RUNTS.root)).toEqual([]);
  }, TEST_TIMEOUT_MS);

  test("with a cgroup namespace the container's cgroup is 0::/", () => {
    const b = bundleWith((c) => c.linux.namespaces.push({ type: "cgroup" }));
    const info = runInfo(RT_RUNTS, b);
    expect(info.cgroup.filter((l) => l.startsWith("0::"))).toEqual(["0::/"]);
    for (const l of info.cgroup) expect(l).toMatch(/:\/$/);
    expect(runInfo(RT_RUNC, b).cgroup.filter((l) => l.startsWith("0::"))).toEqual(["0::/"]);
  }, TEST_TIMEOUT_MS);

  test("without a cgroup namespace the container is in its own cgroup v2 directory", () => {
    const b = bundleWith(() => {});
    const id = newId(RT_RUNTS, "in");
    const r = rt$(RT_RUNTS, ["run", "--bundle", b.dir, id]);
    expect(r.code).toBe(0);
    expect(probeInfo(r.stdout).cgroup.filter((l) => l.startsWith("0::"))).toEqual([`0::/${id}`]);
    expect(leftovers(id, RT_RUNTS.root)).toEqual([]);
  }, TEST_TIMEOUT_MS);
});

describe("global flags runts does not support, and --rootless true without a user namespace (runts)", () => {
  const ROOTLESS =
    'config.json: linux.namespaces: a rootless container needs a new user namespace ({"type": "user"} with linux.uidMappings and gidMappings; see runts spec --rootless) or one of the caller\'s joined by path';
  for (const [flags, message] of [
    [["--systemd-cgroup"], "--systemd-cgroup: the systemd cgroup driver is not supported yet"],
    [["--rootless", "true"], ROOTLESS],
    [["--rootless=true"], ROOTLESS],
  ] as const) {
    test(`${flags.join(" ")}: one clear error line (also in --log), nothing left behind`, () => {
      const rt = RT_RUNTS;
      const b = pauseBundle();
      const logFile = path.join(tmpDir("runts-log-"), "log.json");
      for (const cmd of ["create", "run"]) {
        const id = newId(rt, "unsup");
        const r = runtime(rt.bin, ["--root", rt.root, "--log", logFile, "--log-format", "json", ...flags, cmd, "--bundle", b.dir, id]);
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toBe(`runts: ${message}\n`);
        const last = JSON.parse(readFileSync(logFile, "utf8").trim().split("\n").pop()!);
        expect(last).toMatchObject({ level: "error", msg: message });
        expect(existsSync(path.join(rt.root, id))).toBe(false);
        expect(leftovers(id, rt.root)).toEqual([]);
      }
    }, TEST_TIMEOUT_MS);
  }
});

describe("delete --force of a half-made container (runts)", () => {
  /** Kills the createRuntime hook processes (found by a token in their environment). */
  function killHooks(token: string): void {
    for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
      try {
        if (readFileSync(`/proc/${p}/environ`, "utf8").includes(token)) process.kill(Number(p), "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
  }

  test("runts create SIGKILLed while its createRuntime hook runs: delete --force leaves nothing", async () => {
    const rt = RT_RUNTS;
    const id = newId(rt, "half");
    const token = `hooktoken-${uniqueId()}`;
    const dir = tmpDir("runts-hook-");
    const marker = path.join(dir, "hook-running");
    scope.release(() => killHooks(token));
    const b = bundleWith((c) => {
      c.process.args = ["/bin/probe", "pause"];
      c.hooks = { createRuntime: [{ path: "/bin/sh", args: ["sh", "-c", `touch ${marker}; exec sleep 60`], env: [`HOOK_TOKEN=${token}`] }] };
    });

    const create = spawnRuntime(rt.bin, ["--root", rt.root, "create", "--bundle", b.dir, id]);
    await waitWhileRunning(create, "the createRuntime hook to run", () => existsSync(marker));
    // Mid-create: the state dir, the cgroup and the init exist.
    expect(existsSync(path.join(rt.root, id))).toBe(true);
    expect(leftovers(id, rt.root).some((l) => l.startsWith("cgroup "))).toBe(true);
    process.kill(create.pid, "SIGKILL");
    const r = await create.result;
    expect(r.signal).toBe("SIGKILL");

    const d = rt$(rt, ["delete", "--force", id]);
    expect(d.stderr).toBe("");
    expect(d.code).toBe(0);
    expect(existsSync(path.join(rt.root, id))).toBe(false);
    expect(containerState(rt.bin, rt.root, id)).toBeNull();
    expect(leftovers(id, rt.root)).toEqual([]);
  }, TEST_TIMEOUT_MS);

  test("a state dir without state.json (create killed before writing it): delete --force removes it", () => {
    const rt = RT_RUNTS;
    const id = newId(rt, "half");
    const dir = path.join(rt.root, id);
    mkdirSync(dir, { recursive: true });
    const d = rt$(rt, ["delete", "--force", id]);
    expect(d.stderr).toBe("");
    expect(d.code).toBe(0);
    expect(existsSync(dir)).toBe(false);
    expect(leftovers(id, rt.root)).toEqual([]);
  }, TEST_TIMEOUT_MS);
});

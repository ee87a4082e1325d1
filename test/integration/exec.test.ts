/**
 * `exec`: a new process in a running container, against runts and runc (the oracle) where
 * behaviour could be in doubt: output and exit status, another user with extra gids and
 * fewer caps, env/cwd, --detach --pid-file, --process in the call form managers use,
 * refusals (stopped, paused, unknown container, unknown user name, bad process.json, missing
 * binary) that leave no process, namespaces and cgroup of the container, signals,
 * --preserve-fds and LISTEN_FDS, --pidfd-socket, and the CVE-2019-5736 regression.
 */
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { cgroupV2Root, containerState, probeInfo, RT_RUNC, RT_RUNTS, type Runtime, runtime, spawnRuntime, waitFor } from "../lib/harness";
import { type Bundle } from "../lib/rootfs";
import { testScope } from "../lib/scope";

const scope = testScope("ex");
const tempDir = () => scope.hostDir("exec");

const rt = (r: Runtime, args: string[], opts = {}) => runtime(r.bin, ["--root", r.root, ...args], opts);

/** A running container whose init sleeps; returns its id. */
function running(r: Runtime, config: (c: any) => void = () => {}, rootfs: "copy" | "shared" = "shared"): { id: string; bundle: Bundle } {
  const bundle = scope.newBundle({
    rootfs,
    config: (c) => {
      c.process.args = ["/bin/sleep", "1000"];
      config(c);
    },
  });
  const id = scope.newId(r);
  const res = rt(r, ["run", "-d", "-b", bundle.dir, id]);
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  return { id, bundle };
}

function cgroupProcs(id: string): number[] {
  const text = readFileSync(path.join(cgroupV2Root(), id, "cgroup.procs"), "utf8");
  return text.split("\n").filter(Boolean).map(Number);
}

function processFile(dir: string, p: object): string {
  const f = path.join(dir, "process.json");
  writeFileSync(f, JSON.stringify(p));
  return f;
}

for (const r of [RT_RUNTS, RT_RUNC]) {
  describe(`exec (${r.name})`, () => {
    test("output and exit status are the process's", () => {
      const { id } = running(r);
      const res = rt(r, ["exec", id, "sh", "-c", "echo out; echo err >&2; exit 7"]);
      expect(res.stdout).toBe("out\n");
      expect(res.stderr).toBe("err\n");
      expect(res.code).toBe(7);
      expect(rt(r, ["exec", id, "true"]).code).toBe(0);
    });

    test("another user with extra gids and fewer capabilities (process.json), env and cwd", () => {
      const { id, bundle } = running(r);
      const p = {
        args: ["/bin/probe", "info"],
        cwd: "/tmp",
        env: ["PATH=/bin", "FOO=bar"],
        user: { uid: 1000, gid: 1000, additionalGids: [5, 7] },
        capabilities: { bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"] },
      };
      const res = rt(r, ["exec", "-p", processFile(tempDir(), p), id]);
      expect(res.stderr).toBe("");
      expect(res.code).toBe(0);
      const info = probeInfo(res.stdout);
      expect([info.uid, info.gid, info.euid, info.egid]).toEqual([1000, 1000, 1000, 1000]);
      expect(info.groups.sort((a, b) => a - b)).toEqual([5, 7]);
      expect(info.caps.bnd).toBe("0000000000000020");
      expect(info.caps.prm).toBe("0000000000000000"); // a non-root user keeps none without ambient
      expect(info.cwd).toBe("/tmp");
      expect(info.env).toContain("FOO=bar");
      expect(info.env).toContain("HOME=/home/tester");
      // runc: a process.json without noNewPrivileges gets none, whatever the container's says
      expect(bundle.config.process.noNewPrivileges).toBe(true);
      expect(info.noNewPrivs).toBe(0);
    });

    test("flags: --user, --additional-gids, --env, --cwd, --cap", () => {
      const { id } = running(r);
      const res = rt(r, ["exec", "-u", "1000:1000", "-g", "5", "--env", "A=1", "--env", "B=2", "--cwd", "/tmp", "--cap", "CAP_SYS_ADMIN", id, "/bin/probe", "info"]);
      expect(res.stderr).toBe("");
      expect(res.code).toBe(0);
      const info = probeInfo(res.stdout);
      expect([info.uid, info.gid, info.groups]).toEqual([1000, 1000, [5]]);
      expect(info.env).toEqual(expect.arrayContaining(["A=1", "B=2"]));
      expect(info.cwd).toBe("/tmp");
      expect((BigInt(`0x${info.caps.bnd}`) >> 21n) & 1n).toBe(1n); // CAP_SYS_ADMIN added to the bounding set
      expect(info.caps.inh).toBe("0000000000000000"); // never inheritable (CVE-2022-29162)
      expect(info.caps.amb).toBe("0000000000000000");
    });

    test("exec -d --pid-file: returns once the process runs, in the container's cgroup", async () => {
      const { id } = running(r);
      const pidFile = path.join(tempDir(), "pid");
      const t0 = Date.now();
      const res = rt(r, ["exec", "-d", "--pid-file", pidFile, id, "sleep", "30"]);
      expect(res.code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(10_000);
      const pid = Number(readFileSync(pidFile, "utf8"));
      expect(readlinkSync(`/proc/${pid}/exe`)).toMatch(/busybox$/);
      expect(cgroupProcs(id)).toContain(pid);
    });

    test("the call form managers use: exec --pid-file F --process F --detach ID", () => {
      const { id } = running(r);
      const dir = tempDir();
      const pidFile = path.join(dir, "pid");
      const f = processFile(dir, { args: ["/bin/sleep", "30"], cwd: "/", env: ["PATH=/bin"], user: { uid: 0, gid: 0 } });
      const res = rt(r, ["exec", "--pid-file", pidFile, "--process", f, "--detach", id]);
      expect(res.stderr).toBe("");
      expect(res.code).toBe(0);
      expect(cgroupProcs(id)).toContain(Number(readFileSync(pidFile, "utf8")));
    });

    test("exec into a container whose init has exited: a clear error, nothing started", async () => {
      const { id } = running(r, (c) => (c.process.args = ["/bin/true"]));
      await waitFor("the init to exit", () => containerState(r.bin, r.root, id)?.status === "stopped");
      const res = rt(r, ["exec", id, "/bin/true"]);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(/stopped/);
    });

    test("exec into a created (not yet started) container runs, and the init still waits for start", () => {
      const bundle = scope.newBundle({ rootfs: "shared", config: (c) => (c.process.args = ["/bin/sleep", "1000"]) });
      const id = scope.newId(r);
      expect(rt(r, ["create", "-b", bundle.dir, id]).code).toBe(0);
      const res = rt(r, ["exec", id, "sh", "-c", "echo in-created"]);
      expect({ code: res.code, stdout: res.stdout }).toEqual({ code: 0, stdout: "in-created\n" });
      expect(containerState(r.bin, r.root, id)?.status).toBe("created");
    });

    test("--ignore-paused: the process starts once the container is resumed (exec waits until then, as runc)", async () => {
      const { id } = running(r);
      expect(rt(r, ["pause", id]).code).toBe(0);
      const dir = tempDir();
      const ex = spawnRuntime(r.bin, ["--root", r.root, "exec", "-d", "--ignore-paused", "--pid-file", path.join(dir, "pid"), id, "sleep", "30"]);
      await Bun.sleep(1000);
      expect(ex.done()).toBe(false);
      expect(rt(r, ["resume", id]).code).toBe(0);
      expect((await ex.result).code).toBe(0);
      expect(cgroupProcs(id)).toContain(Number(readFileSync(path.join(dir, "pid"), "utf8")));
    });

    test("a missing binary: a clear error, no process left in the container", () => {
      const { id } = running(r);
      const res = rt(r, ["exec", id, "/bin/nonexistent"]);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(/nonexistent.*no such file or directory/i);
      expect(cgroupProcs(id)).toHaveLength(1);
    });
  });
}

describe("exec (runts only)", () => {
  test("refusals: unknown container, paused container, unknown user name, bad process.json, --tty", () => {
    const { id } = running(RT_RUNTS);
    const unknown = rt(RT_RUNTS, ["exec", "no-such-ct", "true"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no-such-ct.*does not exist/);
    const name = rt(RT_RUNTS, ["exec", "-u", "tester", id, "true"]);
    expect(name.code).not.toBe(0);
    expect(name.stderr).toMatch(/--user: "tester" is not a numeric id in 0\.\.2147483647/);
    const big = rt(RT_RUNTS, ["exec", "-g", "2147483648", id, "true"]);
    expect(big.stderr).toMatch(/--additional-gids: "2147483648" is not a numeric id/);
    const dir = tempDir();
    const bad = rt(RT_RUNTS, ["exec", "-p", processFile(dir, { args: ["true"], cwd: "relative", user: { uid: 0, gid: 0 } }), id]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/process\.json: \/cwd: must be an absolute path/);
    // A terminal for a detached exec needs a console socket (runc's check; terminal.test.ts has the rest).
    const tty = rt(RT_RUNTS, ["exec", "-t", "-d", id, "true"]);
    expect(tty.code).not.toBe(0);
    expect(tty.stderr).toMatch(/process\.terminal: .*needs --console-socket/);
    expect(rt(RT_RUNTS, ["pause", id]).code).toBe(0);
    const paused = rt(RT_RUNTS, ["exec", id, "true"]);
    expect(paused.code).not.toBe(0);
    expect(paused.stderr).toMatch(/paused.*--ignore-paused/);
    expect(rt(RT_RUNTS, ["resume", id]).code).toBe(0);
    expect(cgroupProcs(id)).toHaveLength(1);
  });

  test("joins every namespace of the init and is born in its cgroup (sub-cgroup with --cgroup)", () => {
    const { id } = running(RT_RUNTS, (c) => {
      if (!c.linux.namespaces.some((n: any) => n.type === "cgroup")) c.linux.namespaces.push({ type: "cgroup" });
    });
    const init = containerState(RT_RUNTS.bin, RT_RUNTS.root, id)!.pid as number;
    const info = probeInfo(rt(RT_RUNTS, ["exec", id, "/bin/probe", "info"]).stdout);
    for (const [ns, link] of Object.entries(info.ns)) expect(`${ns} ${link}`).toBe(`${ns} ${readlinkSync(`/proc/${init}/ns/${ns}`)}`);
    expect(info.exe).toBe("/bin/probe");
    expect(info.cgroup).toContain("0::/");
    const sub = path.join(cgroupV2Root(), id, "sub");
    const mk = spawn("mkdir", [sub]);
    return new Promise<void>((resolve) =>
      mk.on("exit", () => {
        const inSub = rt(RT_RUNTS, ["exec", "--cgroup", "sub", id, "cat", "/proc/self/cgroup"]);
        expect(inSub.stdout).toContain("0::/sub\n");
        resolve();
      }),
    );
  });

  test("signals to runts exec reach the process; its death by signal is 128+N", async () => {
    const { id } = running(RT_RUNTS);
    const ex = spawnRuntime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "exec", id, "sh", "-c", "trap 'echo got-usr1; exit 9' USR1; echo ready; while :; do sleep 0.1; done"]);
    await waitFor("exec to be ready", () => ex.stdoutSoFar().includes("ready"));
    ex.signal("SIGUSR1");
    const res = await ex.result;
    expect(res.stdout).toContain("got-usr1");
    expect(res.code).toBe(9);
    const killed = spawnRuntime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "exec", id, "sh", "-c", "echo ready; exec sleep 100"]);
    await waitFor("exec to be ready", () => killed.stdoutSoFar().includes("ready"));
    await Bun.sleep(100);
    killed.signal("SIGTERM");
    expect((await killed.result).code).toBe(143);
  });

  test("--preserve-fds and LISTEN_FDS: exactly those fds; LISTEN_PID is the process's own pid; fds not passed are refused", async () => {
    const { id } = running(RT_RUNTS);
    const dir = tempDir();
    const fds = ["listen", "extra"].map((n) => openSync(path.join(dir, n), "w"));
    const fdsAbove2 = (out: string) => probeInfo(out).fds.map((f) => f.fd).filter((n) => n > 2);
    const exec = (args: string[], opts: object) => spawnRuntime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "exec", ...args, id, "/bin/probe", "info"], opts).result;
    try {
      const preserved = await exec(["--preserve-fds", "2"], { extraFds: fds });
      expect(preserved.stderr).toBe("");
      const pinfo = probeInfo(preserved.stdout);
      expect(pinfo.fds.filter((f) => f.fd > 2)).toEqual([
        { fd: 3, target: path.join(dir, "listen") },
        { fd: 4, target: path.join(dir, "extra") },
      ]);
      expect(pinfo.env.some((e) => e.startsWith("LISTEN_"))).toBe(false);
      // LISTEN_PID must name runts itself: sh sets it to its own pid and execs runts.
      const ex = spawnRuntime(
        "/bin/sh",
        ["-c", `LISTEN_FDS=1 LISTEN_PID=$$ exec ${RT_RUNTS.bin} --root ${RT_RUNTS.root} exec --preserve-fds 1 ${id} /bin/probe info`],
        { extraFds: fds },
      );
      const res = await ex.result;
      expect(res.stderr).toBe("");
      const info = probeInfo(res.stdout);
      expect(info.fds.filter((f) => f.fd > 2)).toEqual(pinfo.fds.filter((f) => f.fd > 2));
      expect(info.env).toContain("LISTEN_FDS=1");
      expect(info.env).toContain(`LISTEN_PID=${info.pid}`);
      // LISTEN_PID naming another process: no socket activation, nothing passed
      const plain = await exec([], { extraFds: fds, env: { LISTEN_FDS: "1", LISTEN_PID: "1" } });
      expect(fdsAbove2(plain.stdout)).toEqual([]);
      // one fd passed, two asked for: fd 4 is Bun's own (its event loop), never handed on
      const short = await exec(["--preserve-fds", "2"], { extraFds: [fds[0]] });
      expect(short.code).toBe(1);
      expect(short.stderr).toMatch(/--preserve-fds 2: fd 4 was not passed to runts by its caller/);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });

  test("--pidfd-socket: a pidfd of the exec'd process (payload setns) and of run's init (payload standard), as runc sends", async () => {
    const dir = tempDir();
    const receiver = (sock: string) => {
      const script = [
        "import socket, sys",
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(1)",
        "print('ready', flush=True)",
        "c, _ = s.accept()",
        "msg, fds, _, _ = socket.recv_fds(c, 1024, 4)",
        "pid = [l.split()[1] for l in open('/proc/self/fdinfo/%d' % fds[0]) if l.startswith('Pid:')][0]",
        "print(msg.decode(), len(fds), pid, flush=True)",
      ].join("\n");
      return spawnRuntime("python3", ["-c", script, sock]);
    };
    const runSock = path.join(dir, "run.sock");
    const rRun = receiver(runSock);
    await waitFor("receiver", () => rRun.stdoutSoFar().includes("ready"));
    const bundle = scope.newBundle({ rootfs: "shared", config: (c) => (c.process.args = ["/bin/sleep", "1000"]) });
    const id = scope.newId(RT_RUNTS);
    expect(rt(RT_RUNTS, ["run", "-d", "--pidfd-socket", runSock, "-b", bundle.dir, id]).code).toBe(0);
    const init = containerState(RT_RUNTS.bin, RT_RUNTS.root, id)!.pid;
    expect((await rRun.result).stdout).toBe(`ready\nstandard 1 ${init}\n`);

    const execSock = path.join(dir, "exec.sock");
    const rExec = receiver(execSock);
    await waitFor("receiver", () => rExec.stdoutSoFar().includes("ready"));
    const pidFile = path.join(dir, "pid");
    expect(rt(RT_RUNTS, ["exec", "-d", "--pid-file", pidFile, "--pidfd-socket", execSock, id, "sleep", "30"]).code).toBe(0);
    expect((await rExec.result).stdout).toBe(`ready\nsetns 1 ${readFileSync(pidFile, "utf8")}\n`);

    const missing = rt(RT_RUNTS, ["exec", "--pidfd-socket", path.join(dir, "none"), id, "true"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/--pidfd-socket: connect.*no such file or directory/);
    expect(cgroupProcs(id).sort()).toEqual([init, Number(readFileSync(pidFile, "utf8"))].sort());
  });

  test("CVE-2019-5736: a process inside never opens /proc/<pid>/exe for writing while 100 execs run", async () => {
    const { id, bundle } = running(RT_RUNTS, () => {}, "copy");
    const attacker = spawnRuntime(RT_RUNTS.bin, [
      "--root",
      RT_RUNTS.root,
      "exec",
      id,
      "sh",
      "-c",
      [
        "n=0; echo ready",
        "while [ ! -e /tmp/stop ]; do",
        "  for d in /proc/[0-9]*; do",
        '    [ "$d" = "/proc/$$" ] && continue',
        '    if (exec 3>>"$d/exe") 2>/dev/null; then echo "OPENED $d $(readlink $d/exe)"; fi',
        "    n=$((n+1))",
        "  done",
        "done",
        'echo "tries $n"',
      ].join("\n"),
    ], { timeoutMs: 300_000 });
    await waitFor("attacker", () => attacker.stdoutSoFar().includes("ready"));
    for (let i = 0; i < 100; i++) expect(rt(RT_RUNTS, ["exec", id, "true"]).code).toBe(0);
    writeFileSync(path.join(bundle.rootfs, "tmp/stop"), "");
    const res = await attacker.result;
    expect(res.stdout).not.toContain("OPENED");
    expect(Number(/tries (\d+)/.exec(res.stdout)?.[1])).toBeGreaterThan(100);
    expect(existsSync(path.join(bundle.rootfs, "bin/busybox"))).toBe(true);
  }, 300_000);
});

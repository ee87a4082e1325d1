/**
 * Terminals, against runc: process.terminal with --console-socket (create + start, run -d),
 * received by test/probe/console-receiver.c (Bun cannot receive SCM_RIGHTS); a foreground
 * `run` under a pty the test allocates with script(1) and with stdin not a terminal; and the
 * caller's stdio reaching a terminal: false process across create + start.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  BOTH,
  leftovers,
  REPO,
  RT_RUNC,
  RT_RUNTS,
  type Runtime,
  runtime,
  waitFor,
} from "../lib/harness";
import type { Bundle } from "../lib/rootfs";
import { testScope } from "../lib/scope";

const TEST_TIMEOUT_MS = 60_000;
let work = "";
let receiver = "";


beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "runts-terminal-"));
  receiver = path.join(work, "console-receiver");
  const gcc = spawnSync("gcc", ["-O2", "-Wall", "-Wextra", "-o", receiver, path.join(REPO, "test/probe/console-receiver.c")], { encoding: "utf8" });
  if (gcc.status !== 0) throw new Error(`compiling console-receiver.c failed: ${gcc.stderr}`);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const scope = testScope("tty");
const newId = (rt: Runtime) => scope.newId(rt);
const bundleWith = (config: (c: any) => void = () => {}): Bundle => scope.newBundle({ rootfs: "shared", config });

const rt$ = (rt: Runtime, args: string[], opts: Parameters<typeof runtime>[2] = {}) => runtime(rt.bin, ["--root", rt.root, ...args], opts);

/** What the process with a terminal reports about it, one fact per line. */
const TTY_REPORT = [
  "tty",
  "stty size",
  `echo tty_nr=$(cut -d" " -f7 /proc/self/stat)`,
  "echo console=$(stat -c %t:%T /dev/console) pts=$(stat -c %t:%T $(tty))",
  "echo sid=$(cut -d' ' -f6 /proc/self/stat) pid=$$",
  "echo ctty > /dev/tty && echo ctty-ok",
  "read line",
  "echo got:$line",
].join("; ");

interface Received {
  header: { payload: string; fds: number; mode: number; rdev: string; rows: number; cols: number };
  output: string;
}

/** Starts the receiver on a new socket path; resolves with what it got once it exits. */
function startReceiver(input: string, timeoutMs = 5000): { socket: string; done: Promise<Received> } {
  const socket = path.join(work, `console-${Math.random().toString(16).slice(2)}.sock`);
  const child = spawn(receiver, [socket, input, String(timeoutMs)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const done = new Promise<Received>((resolve, reject) => {
    child.on("exit", () => {
      const nl = out.indexOf("\n");
      try {
        resolve({ header: JSON.parse(out.slice(0, nl)), output: out.slice(nl + 1) });
      } catch {
        reject(new Error(`console-receiver: ${JSON.stringify(out)} ${err}`));
      }
    });
  });
  return { socket, done };
}

/** Output lines; script(1)'s own pty echoes the NUL it writes at the end of its input as "^@". */
function lines(s: string): string[] {
  return s.replace(/\r|\^@|\0/g, "").split("\n").map((l) => l.trim()).filter(Boolean);
}

describe("--console-socket", () => {
  test("create + start: the master arrives as runc sends it; the pts is the process's controlling terminal, stdio and /dev/console, sized by consoleSize", async () => {
    const results: Record<string, Received> = {};
    for (const rt of BOTH) {
      const b = bundleWith((c) => {
        c.process.terminal = true;
        c.process.consoleSize = { height: 33, width: 111 };
        c.process.args = ["/bin/sh", "-c", TTY_REPORT];
      });
      const id = newId(rt);
      const r = startReceiver("hello\n");
      await waitFor("receiver socket", () => existsSync(r.socket));
      const created = rt$(rt, ["create", "--bundle", b.dir, "--console-socket", r.socket, id]);
      expect(created.stderr).toBe("");
      expect(created.code).toBe(0);
      expect(rt$(rt, ["start", id]).code).toBe(0);
      results[rt.name] = await r.done;
    }
    const runc = results.runc!;
    const runts = results.runts!;
    expect(runts.header).toEqual(runc.header);
    expect(runts.header).toMatchObject({ payload: "/dev/ptmx", fds: 1, rdev: "5:2", rows: 33, cols: 111 });
    const got = lines(runts.output);
    expect(got).toContain("/dev/pts/0");
    expect(got).toContain("33 111");
    expect(got).toContain("tty_nr=34816"); // major 136 (pts), minor 0
    const consoleLine = got.find((l) => l.startsWith("console="))!;
    expect(consoleLine).toBe("console=88:0 pts=88:0");
    const sid = /sid=(\d+) pid=(\d+)/.exec(got.join("\n"))!;
    expect(sid[1]).toBe(sid[2]); // a session leader: the pty can be its controlling terminal
    expect(got).toContain("ctty-ok");
    expect(got).toContain("got:hello");
    // Everything but the echoed input matches runc line by line.
    expect(got.filter((l) => l !== "hello")).toEqual(lines(runc.output).filter((l) => l !== "hello"));
  }, TEST_TIMEOUT_MS);

  test("run -d: the master goes to the socket; the container runs on after runts returns", async () => {
    const b = bundleWith((c) => {
      c.process.terminal = true;
      c.process.args = ["/bin/sh", "-c", "read line; echo got:$line"];
    });
    const id = newId(RT_RUNTS);
    const r = startReceiver("detached\n");
    await waitFor("receiver socket", () => existsSync(r.socket));
    const run = rt$(RT_RUNTS, ["run", "-d", "--bundle", b.dir, "--console-socket", r.socket, id]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const got = await r.done;
    expect(got.header.payload).toBe("/dev/ptmx");
    expect(lines(got.output)).toContain("got:detached");
  }, TEST_TIMEOUT_MS);

  test("a console socket that does not exist, or is not a socket: one clear error, nothing left (runc fails too)", () => {
    const b = bundleWith((c) => (c.process.terminal = true));
    const notSocket = path.join(work, "plain-file");
    writeFileSync(notSocket, "");
    for (const [where, errno] of [
      [path.join(work, "missing.sock"), /no such file or directory \(ENOENT\)/],
      [notSocket, /connection refused \(ECONNREFUSED\)|errno 111/],
    ] as const) {
      for (const cmd of ["create", "run"]) {
        const id = newId(RT_RUNTS);
        const args = cmd === "run" ? ["run", "-d"] : ["create"];
        const r = rt$(RT_RUNTS, [...args, "--bundle", b.dir, "--console-socket", where, id]);
        expect(r.code).toBe(1);
        const errLines = lines(r.stderr);
        expect(errLines).toHaveLength(1);
        expect(errLines[0]).toContain(JSON.stringify(where));
        expect(errLines[0]).toMatch(errno);
        expect(existsSync(path.join(RT_RUNTS.root, id))).toBe(false);
        expect(leftovers(id, RT_RUNTS.root)).toEqual([]);
      }
      const o = rt$(RT_RUNC, ["create", "--bundle", b.dir, "--console-socket", where, newId(RT_RUNC)]);
      expect(o.code).not.toBe(0);
    }
  }, TEST_TIMEOUT_MS);

  test("terminal without a console socket when detaching, and a console socket without a terminal, are refused as by runc", () => {
    const tty = bundleWith((c) => (c.process.terminal = true));
    const noTty = bundleWith(() => {});
    const socket = path.join(work, "unused.sock");
    const cases: [Bundle, string[], RegExp][] = [
      [tty, ["create"], /process\.terminal: .*needs --console-socket/],
      [tty, ["run", "-d"], /process\.terminal: .*needs --console-socket/],
      [noTty, ["create", "--console-socket", socket], /--console-socket .*needs process\.terminal true/],
      [tty, ["run", "--console-socket", socket], /--console-socket .*detached/],
    ];
    for (const [b, args, message] of cases) {
      const id = newId(RT_RUNTS);
      const r = rt$(RT_RUNTS, [...args, "--bundle", b.dir, id]);
      expect(r.code).toBe(1);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(leftovers(id, RT_RUNTS.root)).toEqual([]);
      const o = rt$(RT_RUNC, [...args, "--bundle", b.dir, newId(RT_RUNC)]);
      expect(o.code).not.toBe(0);
    }
  }, TEST_TIMEOUT_MS);
});

/** Runs `sh -c script` under script(1): a pty the test allocates is its stdin/stdout. */
function underPty(shell: string, input: string, timeoutMs = 30_000): { code: number | null; output: string } {
  const r = spawnSync("script", ["-qec", shell, "/dev/null"], { input, encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL" });
  return { code: r.status, output: r.stdout ?? "" };
}

describe("foreground run with a terminal", () => {
  test("under a pty: raw mode while it runs, the caller's size and its changes (SIGWINCH), the terminal restored, the exit status", () => {
    const results: Record<string, { code: number | null; output: string; before: string; during: string; after: string }> = {};
    for (const rt of BOTH) {
      const b = bundleWith((c) => {
        c.process.terminal = true;
        c.process.args = ["/bin/sh", "-c", "stty size; sleep 2; stty size; exit 7"];
      });
      const id = newId(rt);
      const files = { before: path.join(work, `${rt.name}-before`), during: path.join(work, `${rt.name}-during`), after: path.join(work, `${rt.name}-after`) };
      const shell = [
        "stty rows 40 cols 100",
        `stty -a > ${files.before}`,
        // A background job's stdin is /dev/null: it reaches the pty as /dev/tty.
        `(sleep 1; stty -a < /dev/tty > ${files.during}; stty rows 50 cols 120 < /dev/tty) &`,
        `${rt.bin} --root ${rt.root} run --bundle ${b.dir} ${id}`,
        "echo rc=$?",
        "wait",
        `stty -a > ${files.after}`,
      ].join("\n");
      results[rt.name] = {
        ...underPty(shell, ""),
        before: readFileSync(files.before, "utf8"),
        during: existsSync(files.during) ? readFileSync(files.during, "utf8") : "",
        after: readFileSync(files.after, "utf8"),
      };
    }
    for (const rt of BOTH) {
      const r = results[rt.name]!;
      const got = lines(r.output);
      expect(got).toContain("40 100");
      expect(got).toContain("50 120");
      expect(got).toContain("rc=7");
      expect(r.during).toMatch(/-icanon/);
      expect(r.during).toMatch(/-echo /);
      expect(r.before).toMatch(/ icanon/);
      // Restored: everything but the size (changed on purpose above) is as before.
      const settings = (stty: string) => stty.split("\n").slice(1).join("\n");
      expect(settings(r.after)).toBe(settings(r.before));
    }
  }, TEST_TIMEOUT_MS);

  test("stdin not a terminal: runts relays plain stdio through the pty (runc fails: no tty)", () => {
    const b = bundleWith((c) => {
      c.process.terminal = true;
      c.process.args = ["/bin/sh", "-c", "tty; read line; echo got:$line; read rest || echo eof; exit 3"];
    });
    const id = newId(RT_RUNTS);
    const r = rt$(RT_RUNTS, ["run", "--bundle", b.dir, id], { input: "piped\n" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(3);
    const got = lines(r.stdout);
    expect(got).toContain("/dev/pts/0");
    expect(got).toContain("got:piped");
    expect(got).toContain("eof"); // the end of stdin reaches the process as the pty's EOF
    expect(leftovers(id, RT_RUNTS.root)).toEqual([]);
    const o = rt$(RT_RUNC, ["run", "--bundle", b.dir, newId(RT_RUNC)], { input: "piped\n" });
    expect(o.code).not.toBe(0);
  }, TEST_TIMEOUT_MS);
});

describe("exec with a terminal", () => {
  test("exec -t -d --console-socket: the receiver drives the shell; size, controlling terminal and stdio as runc", async () => {
    const results: Record<string, Received> = {};
    for (const rt of BOTH) {
      const b = bundleWith((c) => {
        c.process.args = ["/bin/sleep", "100"];
        c.process.consoleSize = { height: 24, width: 91 };
      });
      const id = newId(rt);
      expect(rt$(rt, ["run", "-d", "--bundle", b.dir, id]).code).toBe(0);
      const r = startReceiver("hello\n");
      await waitFor("receiver socket", () => existsSync(r.socket));
      const e = rt$(rt, ["exec", "-t", "-d", "--console-socket", r.socket, id, "/bin/sh", "-c", TTY_REPORT]);
      expect(e.stderr).toBe("");
      expect(e.code).toBe(0);
      results[rt.name] = await r.done;
    }
    expect(results.runts!.header).toEqual(results.runc!.header);
    expect(results.runts!.header).toMatchObject({ payload: "/dev/ptmx", fds: 1, rows: 24, cols: 91 });
    const got = lines(results.runts!.output);
    expect(got).toContain("24 91");
    expect(got).toContain("ctty-ok");
    expect(got).toContain("got:hello");
    const sid = /sid=(\d+) pid=(\d+)/.exec(got.join("\n"))!;
    expect(sid[1]).toBe(sid[2]);
    // exec gets no /dev/console (runc binds it for the init only): both report the same.
    const strip = (ls: string[]) => ls.filter((l) => l !== "hello" && !l.startsWith("sid="));
    expect(strip(got)).toEqual(strip(lines(results.runc!.output)));
  }, TEST_TIMEOUT_MS);

  test("exec -t in the foreground relays stdio (not a terminal here), with the process's exit status", () => {
    const b = bundleWith((c) => (c.process.args = ["/bin/sleep", "100"]));
    const id = newId(RT_RUNTS);
    expect(rt$(RT_RUNTS, ["run", "-d", "--bundle", b.dir, id]).code).toBe(0);
    const r = rt$(RT_RUNTS, ["exec", "-t", id, "/bin/sh", "-c", "tty; read l; echo got:$l; exit 4"], { input: "hey\n" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(4);
    expect(lines(r.stdout)).toContain("got:hey");
    expect(lines(r.stdout).some((l) => /^\/dev\/pts\/\d+$/.test(l))).toBe(true);
  }, TEST_TIMEOUT_MS);

  test("exec -t under a pty: the caller's size, the terminal restored", () => {
    const b = bundleWith((c) => (c.process.args = ["/bin/sleep", "100"]));
    const id = newId(RT_RUNTS);
    expect(rt$(RT_RUNTS, ["run", "-d", "--bundle", b.dir, id]).code).toBe(0);
    const before = path.join(work, "exec-before");
    const after = path.join(work, "exec-after");
    const r = underPty(
      [`stty rows 22 cols 77`, `stty -a > ${before}`, `${RT_RUNTS.bin} --root ${RT_RUNTS.root} exec -t ${id} sh -c 'stty size; exit 5'`, "echo rc=$?", `stty -a > ${after}`].join("\n"),
      "",
    );
    const got = lines(r.output);
    expect(got).toContain("22 77");
    expect(got).toContain("rc=5");
    expect(readFileSync(after, "utf8")).toBe(readFileSync(before, "utf8"));
  }, TEST_TIMEOUT_MS);
});

describe("terminal: false", () => {
  test("the caller's pipes reach the process untouched across create + start", async () => {
    const seen: Record<string, { out: string; err: string }> = {};
    for (const rt of BOTH) {
      const b = bundleWith((c) => {
        c.process.args = ["/bin/sh", "-c", "read line; echo out:$line; echo err:$line >&2; for fd in 0 1 2; do readlink /proc/self/fd/$fd; done | sed 's/:.*//'"];
      });
      const id = newId(rt);
      const out = path.join(work, `${rt.name}-out`);
      const err = path.join(work, `${rt.name}-err`);
      // create's stdin, stdout and stderr are three pipes; start runs from elsewhere.
      const shell = `( (sleep 1; echo through) | ${rt.bin} --root ${rt.root} create --bundle ${b.dir} ${id} 2>&1 1>&3 3>&- | cat > ${err} ) 3>&1 | cat > ${out}`;
      const pipeline = spawn("sh", ["-c", shell], { stdio: "ignore" });
      const finished = new Promise<number | null>((resolve) => pipeline.on("exit", (code) => resolve(code)));
      await waitFor("created", () => rt$(rt, ["state", id]).stdout.includes('"created"'));
      expect(rt$(rt, ["start", id]).code).toBe(0);
      expect(await finished).toBe(0);
      seen[rt.name] = { out: readFileSync(out, "utf8"), err: readFileSync(err, "utf8") };
    }
    expect(seen.runts).toEqual(seen.runc!);
    expect(lines(seen.runts!.out)).toEqual(["out:through", "pipe", "pipe", "pipe"]);
    expect(lines(seen.runts!.err)).toEqual(["err:through"]);
  }, TEST_TIMEOUT_MS);
});

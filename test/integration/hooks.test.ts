/**
 * OCI hooks: prestart, createRuntime, createContainer, startContainer, poststart, poststop.
 * Each hook is a small shell script that appends one line to a log:
 *   <name> TAB <its arguments> TAB <$HOOK_VAR> TAB <${RUNTS_TEST_LEAK-unset}> TAB <stdin: the state JSON>
 * Host hooks use a script in a temp dir on the host; the startContainer hook runs inside the
 * container after pivot_root, so it is a copy of the script in the bundle's rootfs, logging to
 * the same file through a bind mount of the log directory. ns.sh (copied the same way) writes
 * the namespaces a hook runs in, to compare with the host's and the container init's.
 *
 * runc 1.1.5 is no oracle for the state the hooks get (it reports pid 1 to createContainer and
 * status "created" to poststart), so the expectations follow the runtime spec.
 */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  containerState,
  forceCleanup,
  leftovers,
  requireRoot,
  ROOTS,
  type RunResult,
  RUNTS,
  runtime,
  uniqueId,
  waitFor,
} from "../lib/harness";
import { type Bundle, makeBundle } from "../lib/rootfs";

const root = ROOTS.runts;

const ids: string[] = [];
const bundles: Bundle[] = [];
const dirs: string[] = [];

/** The log line of one hook run. */
interface HookLine {
  name: string;
  args: string;
  hookVar: string;
  leak: string;
  state: Record<string, any> | null;
}

const HOOK_SCRIPT = `#!/bin/sh
# $1: hook name, $2: log file, $3: exit status (default 0)
IFS= read -r state || true
printf '%s\\t%s\\t%s\\t%s\\t%s\\n' "$1" "$*" "$HOOK_VAR" "\${RUNTS_TEST_LEAK-unset}" "$state" >> "$2"
exit "\${3:-0}"
`;

/** Writes its pid to $2 and turns into a long sleep (the runtime must kill it on timeout). */
const SLOW_SCRIPT = `#!/bin/sh
echo $$ > "$2"
exec /bin/sleep 30
`;

const NAMESPACES = ["mnt", "pid", "net", "ipc", "uts"] as const;

/** Appends "<name> <ns> <readlink /proc/self/ns/<ns>>" for each of NAMESPACES to $2. */
const NS_SCRIPT = `#!/bin/sh
# $1: hook name, $2: output file
IFS= read -r state || true
for ns in ${NAMESPACES.join(" ")}; do echo "$1 $ns $(/bin/readlink /proc/self/ns/$ns)"; done >> "$2"
`;

interface Env {
  /** Host dir holding the scripts and the log (bind-mounted at /hooklog in the container). */
  dir: string;
  log: string;
  script: string;
  slow: string;
  ns: string;
}

function hookEnv(): Env {
  const dir = mkdtempSync("/tmp/runts-hooks-");
  dirs.push(dir);
  chmodSync(dir, 0o755);
  const script = path.join(dir, "hook.sh");
  const slow = path.join(dir, "slow.sh");
  writeFileSync(script, HOOK_SCRIPT, { mode: 0o755 });
  writeFileSync(slow, SLOW_SCRIPT, { mode: 0o755 });
  const ns = path.join(dir, "ns.sh");
  writeFileSync(ns, NS_SCRIPT, { mode: 0o755 });
  const log = path.join(dir, "log");
  writeFileSync(log, "");
  chmodSync(log, 0o666);
  return { dir, log, script, slow, ns };
}

/** A hook entry running the logging script on the host. */
function hostHook(env: Env, name: string, exit = 0, extra: Record<string, unknown> = {}) {
  const args = ["hook-argv0", name, env.log];
  if (exit) args.push(String(exit));
  return { path: env.script, args, env: [`HOOK_VAR=value-of-${name}`], ...extra };
}

/** The startContainer hook: the script copied into the rootfs, logging through /hooklog. */
function containerHook(name: string, exit = 0) {
  const args = ["hook-argv0", name, "/hooklog/log"];
  if (exit) args.push(String(exit));
  return { path: "/hook.sh", args, env: [`HOOK_VAR=value-of-${name}`] };
}

function hookBundle(env: Env, hooks: Record<string, unknown[]>, args = ["/bin/sh", "-c", "echo process >> /hooklog/log"]): Bundle {
  const b = makeBundle({
    config: (c) => {
      c.mounts.push({ destination: "/hooklog", type: "bind", source: env.dir, options: ["bind", "rw"] });
      c.process.args = args;
      c.hooks = hooks;
    },
  });
  bundles.push(b);
  for (const f of [env.script, env.ns]) {
    copyFileSync(f, path.join(b.rootfs, path.basename(f)));
    chmodSync(path.join(b.rootfs, path.basename(f)), 0o755);
  }
  return b;
}

function readLog(env: Env): HookLine[] {
  return readFileSync(env.log, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [name, args, hookVar, leak, state] = l.split("\t");
      let parsed: Record<string, any> | null = null;
      try {
        parsed = state ? JSON.parse(state) : null;
      } catch {
        parsed = null;
      }
      return { name: name!, args: args ?? "", hookVar: hookVar ?? "", leak: leak ?? "", state: parsed };
    });
}

const names = (env: Env) => readLog(env).map((l) => l.name);

/** Runs a runts command with a marker variable in its environment (it must not reach the hooks). */
function runts(args: string[]): RunResult {
  return runtime(RUNTS, ["--root", root, ...args], { env: { RUNTS_TEST_LEAK: "leaked" } });
}

function newId(): string {
  const id = uniqueId("hk");
  ids.push(id);
  return id;
}

function expectNoLeftovers(): void {
  for (const id of ids) expect({ id, leftovers: leftovers(id, root) }).toEqual({ id, leftovers: [] });
}

function namespacesOf(pid: number | "self"): Record<string, string> {
  return Object.fromEntries(NAMESPACES.map((ns) => [ns, readlinkSync(`/proc/${pid}/ns/${ns}`)]));
}

/** The ns.sh output file: hook name -> namespace -> "mnt:[4026531841]". */
function readNamespaces(file: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const line of readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const [hook, ns, link] = line.split(" ");
    (out[hook!] ??= {})[ns!] = link ?? "";
  }
  return out;
}

function pidAlive(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return !/^State:\s*Z/m.test(status);
  } catch {
    return false;
  }
}

describe("hooks", () => {
  beforeAll(() => requireRoot());

  afterEach(() => {
    for (const id of ids.splice(0).reverse()) forceCleanup(RUNTS, root, id);
    for (const b of bundles.splice(0)) b.cleanup();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  test("all six hooks run in lifecycle order with the state on stdin, their args and only their env", async () => {
    const env = hookEnv();
    const b = hookBundle(env, {
      prestart: [hostHook(env, "prestart")],
      createRuntime: [hostHook(env, "createRuntime")],
      createContainer: [hostHook(env, "createContainer")],
      startContainer: [containerHook("startContainer")],
      poststart: [hostHook(env, "poststart")],
      poststop: [hostHook(env, "poststop")],
    });
    const id = newId();

    const created = runts(["create", "--bundle", b.dir, id]);
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: "" });
    expect(names(env)).toEqual(["prestart", "createRuntime", "createContainer"]);
    const pid = containerState(RUNTS, root, id)?.pid;
    expect(pid).toBeGreaterThan(0);

    const started = runts(["start", id]);
    expect({ code: started.code, stderr: started.stderr }).toEqual({ code: 0, stderr: "" });
    // poststart runs before start returns; startContainer runs in the container before its process.
    expect(names(env)).toContain("poststart");
    await waitFor("the container's process to log", () => names(env).includes("process"));
    await waitFor("the container to stop", () => containerState(RUNTS, root, id)?.status === "stopped");
    const afterStart = names(env);
    expect(afterStart.slice(0, 3)).toEqual(["prestart", "createRuntime", "createContainer"]);
    expect([...afterStart.slice(3)].sort()).toEqual(["poststart", "process", "startContainer"]);
    expect(afterStart.indexOf("startContainer")).toBeLessThan(afterStart.indexOf("process"));
    expect(afterStart).not.toContain("poststop");

    const deleted = runts(["delete", id]);
    expect({ code: deleted.code, stderr: deleted.stderr }).toEqual({ code: 0, stderr: "" });
    const lines = readLog(env);
    expect(lines.map((l) => l.name).pop()).toBe("poststop");

    const byName = Object.fromEntries(lines.filter((l) => l.name !== "process").map((l) => [l.name, l]));
    const expectedStatus: Record<string, string> = {
      prestart: "creating",
      createRuntime: "creating",
      createContainer: "creating",
      startContainer: "created",
      poststart: "running",
      poststop: "stopped",
    };
    // One comparison for all hooks, so that every difference shows at once.
    const actual: Record<string, unknown> = {};
    const expected: Record<string, unknown> = {};
    for (const [name, status] of Object.entries(expectedStatus)) {
      const l = byName[name];
      const logPath = name === "startContainer" ? "/hooklog/log" : env.log;
      actual[name] = l && {
        args: l.args,
        hookVar: l.hookVar,
        leak: l.leak,
        id: l.state?.id,
        bundle: l.state?.bundle,
        status: l.state?.status,
        // the state's pid is the container process as the host sees it (not required once stopped)
        pid: name === "poststop" ? "n/a" : l.state?.pid,
      };
      expected[name] = {
        args: `${name} ${logPath}`,
        hookVar: `value-of-${name}`,
        leak: "unset",
        id,
        bundle: b.dir,
        status,
        pid: name === "poststop" ? "n/a" : pid,
      };
    }
    expect(actual).toEqual(expected);
    expectNoLeftovers();
  });

  test("several hooks of one kind run in config order", () => {
    const env = hookEnv();
    const b = hookBundle(env, {
      createRuntime: [hostHook(env, "cr-1"), hostHook(env, "cr-2"), hostHook(env, "cr-3")],
    });
    const id = newId();
    const r = runts(["create", "--bundle", b.dir, id]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(names(env)).toEqual(["cr-1", "cr-2", "cr-3"]);
    expect(runts(["delete", "--force", id]).code).toBe(0);
    expectNoLeftovers();
  });

  test("prestart, createRuntime, poststart and poststop run in the runtime's namespaces, createContainer and startContainer in the container's", async () => {
    const env = hookEnv();
    const nsLog = path.join(env.dir, "ns");
    writeFileSync(nsLog, "");
    chmodSync(nsLog, 0o666);
    const onHost = (name: string) => ({ path: env.ns, args: ["ns", name, nsLog] });
    const b = hookBundle(
      env,
      {
        prestart: [onHost("prestart")],
        createRuntime: [onHost("createRuntime")],
        createContainer: [onHost("createContainer")],
        startContainer: [{ path: "/ns.sh", args: ["ns", "startContainer", "/hooklog/ns"] }],
        poststart: [onHost("poststart")],
        poststop: [onHost("poststop")],
      },
      ["/bin/sh", "-c", "echo process >> /hooklog/log; exec sleep 1000"],
    );
    const id = newId();
    const created = runts(["create", "--bundle", b.dir, id]);
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: "" });
    const container = namespacesOf(containerState(RUNTS, root, id)!.pid as number);
    const runtime = namespacesOf("self");
    for (const ns of NAMESPACES) expect({ ns, differs: container[ns] !== runtime[ns] }).toEqual({ ns, differs: true });
    const started = runts(["start", id]);
    expect({ code: started.code, stderr: started.stderr }).toEqual({ code: 0, stderr: "" });
    await waitFor("the container's process to run", () => names(env).includes("process"));
    const deleted = runts(["delete", "--force", id]);
    expect({ code: deleted.code, stderr: deleted.stderr }).toEqual({ code: 0, stderr: "" });
    expect(readNamespaces(nsLog)).toEqual({
      prestart: runtime,
      createRuntime: runtime,
      createContainer: container,
      startContainer: container,
      poststart: runtime,
      poststop: runtime,
    });
    expectNoLeftovers();
  });

  for (const kind of ["prestart", "createRuntime", "createContainer"] as const) {
    test(`a failing ${kind} hook fails create with a message naming the hook, runs no later hook and leaves nothing behind`, () => {
      const env = hookEnv();
      const hooks: Record<string, unknown[]> = {
        prestart: [hostHook(env, "prestart")],
        createRuntime: [hostHook(env, "createRuntime")],
        createContainer: [hostHook(env, "createContainer")],
        startContainer: [containerHook("startContainer")],
        poststart: [hostHook(env, "poststart")],
      };
      hooks[kind] = [hostHook(env, kind, 3)];
      const b = hookBundle(env, hooks);
      const id = newId();
      const r = runts(["create", "--bundle", b.dir, id]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(kind);
      expect(r.stderr).toMatch(/exit status 3|exited with 3|status 3/);
      const order = ["prestart", "createRuntime", "createContainer"];
      expect(names(env)).toEqual(order.slice(0, order.indexOf(kind) + 1));
      expect(existsSync(path.join(root, id))).toBe(false);
      expect(leftovers(id, root)).toEqual([]);
      expectNoLeftovers();
    });
  }

  for (const kind of ["prestart", "createRuntime", "createContainer"] as const) {
    test(`a ${kind} hook that outlives its timeout is killed and create fails`, async () => {
      const env = hookEnv();
      const pidFile = path.join(env.dir, "slow.pid");
      const b = hookBundle(env, {
        [kind]: [{ path: env.slow, args: ["slow", kind, pidFile], timeout: 1 }],
        poststart: [hostHook(env, "poststart")],
      });
      const id = newId();
      const t0 = Date.now();
      const r = runts(["create", "--bundle", b.dir, id]);
      const elapsed = Date.now() - t0;
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(kind);
      expect(r.stderr).toMatch(/time[ds]? ?out/i);
      expect(elapsed).toBeLessThan(15_000);
      expect(existsSync(pidFile)).toBe(true);
      if (kind !== "createContainer") {
        // a host process: its pid is the host's
        const pid = Number(readFileSync(pidFile, "utf8").trim());
        await waitFor(`the timed-out hook (pid ${pid}) to be killed`, () => !pidAlive(pid), 5_000);
      }
      expect(names(env)).toEqual([]);
      await waitFor("no leftovers", () => leftovers(id, root).length === 0, 5_000).catch(() => undefined);
      expectNoLeftovers();
    });
  }

  test("a hook within its timeout does not fail", () => {
    const env = hookEnv();
    const b = hookBundle(env, {
      createRuntime: [hostHook(env, "createRuntime", 0, { timeout: 10 })],
      createContainer: [hostHook(env, "createContainer", 0, { timeout: 10 })],
    });
    const id = newId();
    const r = runts(["create", "--bundle", b.dir, id]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(names(env)).toEqual(["createRuntime", "createContainer"]);
    expect(runts(["delete", "--force", id]).code).toBe(0);
    expectNoLeftovers();
  });

  // runc 1.1.5 runs poststart hooks during `create` and fails it; the runtime-spec says a
  // failing poststart hook is logged and the lifecycle goes on.
  test("a failing poststart hook is only logged: start succeeds, the container runs, delete leaves nothing", async () => {
    const env = hookEnv();
    const b = hookBundle(
      env,
      { poststart: [hostHook(env, "poststart-1", 4), hostHook(env, "poststart-2")] },
      ["/bin/sh", "-c", "echo process >> /hooklog/log; exec sleep 1000"],
    );
    const id = newId();
    expect(runts(["create", "--bundle", b.dir, id]).code).toBe(0);
    const started = runts(["start", id]);
    expect(started.code).toBe(0);
    expect(started.stderr).toContain("poststart hook #0");
    expect(started.stderr).toContain("exit status 4");
    await waitFor("the container's process to log", () => names(env).includes("process"));
    // the remaining poststart hooks still run
    expect(names(env)).toContain("poststart-2");
    const st = containerState(RUNTS, root, id)!;
    expect(st.status).toBe("running");
    expect(pidAlive(st.pid)).toBe(true);
    expect(runts(["kill", id, "KILL"]).code).toBe(0);
    await waitFor("the container to stop", () => containerState(RUNTS, root, id)?.status === "stopped");
    const deleted = runts(["delete", id]);
    expect({ code: deleted.code, stderr: deleted.stderr }).toEqual({ code: 0, stderr: "" });
    expect(containerState(RUNTS, root, id)).toBeNull();
    expectNoLeftovers();
  });

  test("a poststart hook that outlives its timeout is killed and only logged: start succeeds, the next hook runs", async () => {
    const env = hookEnv();
    const pidFile = path.join(env.dir, "slow.pid");
    const b = hookBundle(
      env,
      { poststart: [{ path: env.slow, args: ["slow", "poststart", pidFile], timeout: 1 }, hostHook(env, "poststart-2")] },
      ["/bin/sh", "-c", "echo process >> /hooklog/log; exec sleep 1000"],
    );
    const id = newId();
    expect(runts(["create", "--bundle", b.dir, id]).code).toBe(0);
    const t0 = Date.now();
    const started = runts(["start", id]);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(started.code).toBe(0);
    expect(started.stderr).toContain("poststart hook #0");
    expect(started.stderr).toMatch(/timed out/);
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    await waitFor(`the timed-out hook (pid ${pid}) to be killed`, () => !pidAlive(pid), 5_000);
    expect(names(env)).toContain("poststart-2");
    expect(containerState(RUNTS, root, id)?.status).toBe("running");
    expect(runts(["delete", "--force", id]).code).toBe(0);
    expectNoLeftovers();
  });

  test("a poststop hook that outlives its timeout is killed and only logged: delete succeeds and removes the container", async () => {
    const env = hookEnv();
    const pidFile = path.join(env.dir, "slow.pid");
    const b = hookBundle(env, {
      poststop: [{ path: env.slow, args: ["slow", "poststop", pidFile], timeout: 1 }, hostHook(env, "poststop-2")],
    });
    const id = newId();
    expect(runts(["create", "--bundle", b.dir, id]).code).toBe(0);
    expect(runts(["start", id]).code).toBe(0);
    await waitFor("the container to stop", () => containerState(RUNTS, root, id)?.status === "stopped");
    const t0 = Date.now();
    const deleted = runts(["delete", id]);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(deleted.code).toBe(0);
    expect(deleted.stderr).toContain("poststop hook #0");
    expect(deleted.stderr).toMatch(/timed out/);
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    await waitFor(`the timed-out hook (pid ${pid}) to be killed`, () => !pidAlive(pid), 5_000);
    expect(names(env)).toEqual(["process", "poststop-2"]);
    expect(containerState(RUNTS, root, id)).toBeNull();
    expectNoLeftovers();
  });

  test("a failing poststop hook is only logged: delete succeeds and removes the container", async () => {
    const env = hookEnv();
    const b = hookBundle(env, {
      poststop: [hostHook(env, "poststop-1", 5), hostHook(env, "poststop-2")],
    });
    const id = newId();
    expect(runts(["create", "--bundle", b.dir, id]).code).toBe(0);
    expect(runts(["start", id]).code).toBe(0);
    await waitFor("the container to stop", () => containerState(RUNTS, root, id)?.status === "stopped");
    const deleted = runts(["delete", id]);
    expect(deleted.code).toBe(0);
    expect(deleted.stderr).toContain("poststop");
    expect(names(env)).toEqual(["process", "poststop-1", "poststop-2"]);
    expect(containerState(RUNTS, root, id)).toBeNull();
    expectNoLeftovers();
  });
});

// `runts exec`: a new process in a running container, joined and started by runts-init.
import { cgroupsOf } from "../cgroups/driver.ts";
import { ConfigError, RuntsError, wrapSys } from "../errors.ts";
import { checkPreservedFds, launch } from "../helper/launch.ts";
import { isatty, O, readText, writeText } from "../libc.ts";
import { hostFacts } from "../plan/facts.ts";
import { execCgroupDir, type ExecFlags, type ExecPlan, planExec, processFromFile, processFromFlags } from "../plan/exec.ts";
import { loadSpec } from "../spec/load.ts";
import type { Process } from "../spec/types.ts";
import { parseAndCheck } from "../spec/validate.ts";
import { writePidFile } from "../state/pid-file.ts";
import { processStartTime } from "../state/status.ts";
import { sleepMs } from "../sleep.ts";
import { type ConsoleSide, consoleSide } from "./console.ts";
import type { Context } from "./context.ts";
import { SignalForwarder } from "./forward.ts";
import { withContainer } from "./lifecycle.ts";
import { hookState } from "../hooks.ts";

export interface ExecOptions {
  id: string;
  /** --process FILE; otherwise the flags describe the process. */
  processFile?: string;
  flags: ExecFlags;
  detach: boolean;
  pidFile?: string;
  preserveFds: number;
  ignorePaused: boolean;
  cgroup: string[];
  pidfdSocket?: string;
  consoleSocket?: string;
}

/** Socket activation (sd_listen_fds): the fds 3.. that runts's own caller passed for it. */
export function listenFds(env: Record<string, string | undefined>, pid: number): number {
  if (env.LISTEN_PID !== String(pid) || !/^\d+$/.test(env.LISTEN_FDS ?? "")) return 0;
  return Number(env.LISTEN_FDS);
}

function readProcessFile(path: string): Process {
  const text = wrapSys("read --process", path, () => readText(path));
  const checked = parseAndCheck("process", text);
  if (!checked.ok) throw new RuntsError(`--process ${path}`, "", 0, checked.error);
  return checked.value as Process;
}

/**
 * The planner's ConfigErrors say "config.json: "; for exec a field may come from a flag or
 * from the --process file instead, and the error names that.
 */
function fromFlagsOrFile(err: unknown, processFile: string | undefined): unknown {
  if (!(err instanceof ConfigError)) return err;
  const msg = err.message.replace(/^config\.json: /, "");
  if (msg.startsWith("--") || msg.startsWith("exec:")) return new RuntsError(msg);
  if (processFile && msg.startsWith("process.")) return new RuntsError(`--process ${processFile}`, "", 0, msg);
  return err;
}

/** Runs the process; returns its exit status (128+N when killed), or 0 at once with --detach. */
export async function exec(ctx: Context, o: ExecOptions): Promise<number> {
  try {
    return await execProcess(ctx, o);
  } catch (err) {
    throw fromFlagsOrFile(err, o.processFile);
  }
}

async function execProcess(ctx: Context, o: ExecOptions): Promise<number> {
  const listen = listenFds(process.env, process.pid);
  checkPreservedFds(listen + o.preserveFds);
  // The lock is held only to read the state: a long exec must not block kill or delete.
  const { state, status, seccompPath } = withContainer(ctx, o.id, (c) => ({ state: c.state, status: c.status, seccompPath: c.dir.seccompPath }));
  if (status === "stopped") throw new RuntsError("exec", o.id, 0, "cannot exec in a stopped container");
  if (status === "creating") throw new RuntsError("exec", o.id, 0, "the container is still being created");
  if (status === "paused" && !o.ignorePaused) {
    throw new RuntsError("exec", o.id, 0, "cannot exec in a paused container (resume it, or pass --ignore-paused)");
  }
  const spec = loadSpec(state.bundle);
  const proc = o.processFile ? processFromFile(spec.process, readProcessFile(o.processFile)) : processFromFlags(spec.process, o.flags);
  // The container's filter, as create compiled and loaded it (runc gives it to every exec'd process).
  const seccomp = state.seccomp && (await import("../seccomp/program.ts")).storedProgram(seccompPath, state.seccomp);
  const plan = planExec(spec, proc, {
    initPid: state.pid,
    initStartTime: state.pidStartTime,
    cgroupDir: execCgroupDir(state.cgroupDir, o.cgroup),
    cgroupJoin: cgroupsOf(state).joinFiles(),
    rootfs: state.rootfs,
    foreground: !o.detach,
    listenFds: listen,
    preserveFds: o.preserveFds,
    pidfdSocket: o.pidfdSocket,
    console: { socket: o.consoleSocket, stdinIsTty: isatty(0) },
    facts: hostFacts,
    seccomp,
  });
  for (const w of plan.warnings) ctx.log.warn(w);
  // koffi (SCM_RIGHTS) only for a container with a seccomp agent.
  const agent = seccomp?.listener ? await import("../seccomp/listener.ts") : undefined;
  const terminal = await consoleSide(plan.relay, o.consoleSocket, plan.ops.some((op) => op.op === "CONSOLE"));
  const toAgent = (fd: number, pid: number) => agent!.sendToAgent(seccomp!.listener!, fd, pid, hookState(state, "running"));
  let started: { pid: number; time: string | undefined } | undefined;
  try {
    return await launchExec(ctx, o, proc, plan, listen + o.preserveFds, terminal, toAgent, (pid) => (started = { pid, time: processStartTime(pid) }));
  } catch (err) {
    if (started) awaitGone(started.pid, started.time);
    throw err;
  } finally {
    terminal.close();
    terminal.restoreTerminal();
  }
}

/** A process whose exec failed exits at once (runts-init's fail): exec returns once it has. */
function awaitGone(pid: number, startTime: string | undefined): void {
  const deadline = Date.now() + 2_000;
  while (startTime !== undefined && processStartTime(pid) === startTime && Date.now() < deadline) sleepMs(1);
}

/** toAgent: hands the exec'd process's seccomp notify fd to the container's agent; onPid: told the pid first. */
async function launchExec(
  ctx: Context,
  o: ExecOptions,
  proc: Process,
  plan: ExecPlan,
  passFds: number,
  terminal: ConsoleSide,
  toAgent: (fd: number, pid: number) => void,
  onPid: (pid: number) => void,
): Promise<number> {
  let pid = 0;
  // With a terminal the relay resizes the pty on SIGWINCH; the kernel tells the process.
  const forwarder = o.detach ? undefined : new SignalForwarder(plan.relay ? ["SIGWINCH"] : []);
  let launched: Awaited<ReturnType<typeof launch>>;
  try {
    launched = await launch(plan.ops, {
      preserveFds: passFds,
      consoleSocket: terminal.fd,
      log: ctx.log,
      until: "exec",
      onPid(p) {
        pid = p;
        onPid(pid);
        ctx.log.debug(`exec ${o.id}: process pid ${pid}`);
        if (proc.oomScoreAdj !== undefined) {
          const file = `/proc/${pid}/oom_score_adj`;
          wrapSys("set oom_score_adj", file, () => writeText(file, String(proc.oomScoreAdj), O.WRONLY));
        }
      },
      onSync(name) {
        throw new RuntsError("sync", name, 0, "unexpected sync point in an exec plan");
      },
      onSeccompFd(fd) {
        toAgent(fd, pid);
      },
    });
  } catch (err) {
    forwarder?.stop();
    throw err;
  }
  terminal.close();
  if (o.pidFile) writePidFile(o.pidFile, launched.pid);
  if (!forwarder) return 0;
  return forwarder.forwardUntil(launched.pid, launched.exited);
}

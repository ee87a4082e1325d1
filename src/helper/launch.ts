// Starts runts-init from a sealed memfd, hands it the plan and answers its sync points.
import helperImage from "../../build/runts-init" with { type: "file" };
import { RuntsError, wrapSys } from "../errors.ts";
import type { Logger } from "../log.ts";
import { close, readFull, readlink, writeAll } from "../libc.ts";
import * as sys from "../sys.ts";
import {
  decodePayload,
  encodeFrame,
  encodePlan,
  fieldInt,
  fieldString,
  helperFd,
  MAX_FRAME,
  Msg,
  type Message,
  type PlanOp,
} from "./protocol.ts";

export interface LaunchOptions {
  /** Caller fds 3..3+n-1 passed through to the container (--preserve-fds). */
  preserveFds: number;
  /** The connected --console-socket, passed on as helperFd.consoleSocket. */
  consoleSocket?: number;
  log: Logger;
  /** With a new user namespace, onPid writes the init's id maps; launch then answers MSG_IDMAPPED. */
  onPid(pid: number): void;
  newUserNamespace?: boolean;
  /** Called at each OP_SYNC; its result is sent back as the CONTINUE fields. */
  onSync(name: string): string[];
  /** Called with the container's seccomp notify fd (closed after it returns). */
  onSeccompFd?(fd: number): void;
  /**
   * "ready" (create): the plan ends its conversation with READY. "exec" (exec): it has no
   * READY; the socket's EOF after the PID is the process's execve (close-on-exec).
   */
  until?: "ready" | "exec";
}

export interface Launched {
  pid: number;
  /** The helper's exit status; in the foreground, the container's (128+N when killed). */
  exited: Promise<number>;
}

function readMessage(fd: number): Message | null {
  const head = readFull(fd, 4, "runts-init socket");
  if (head.length === 0) return null;
  if (head.length < 4) throw new RuntsError("read from runts-init", "", 0, "truncated message");
  const len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true);
  if (len > MAX_FRAME) throw new RuntsError("read from runts-init", "", 0, `message of ${len} bytes`);
  const body = readFull(fd, len, "runts-init socket");
  if (body.length < len) throw new RuntsError("read from runts-init", "", 0, "truncated message");
  return decodePayload(body);
}

/**
 * Bun marks every fd from this one up close-on-exec as it starts (close_range(4, ~0,
 * CLOSE_RANGE_CLOEXEC)), so there close-on-exec does not tell runts's fds from the caller's.
 * Bun's own fds open by then are its event loop's epoll and eventfd: anonymous inodes, which
 * no caller passes to a container.
 */
const BUN_CLOEXEC_FROM = 4;

function isOwnFd(fd: number, origin: "own" | "closed"): boolean {
  if (origin === "closed" || fd < BUN_CLOEXEC_FROM) return true;
  try {
    return readlink(`/proc/self/fd/${fd}`).startsWith("anon_inode:");
  } catch {
    return true;
  }
}

/**
 * Refuses --preserve-fds N unless fds 3..3+N-1 all came from the caller: otherwise Bun's or
 * runts's own fds (its epoll fd, the state directory lock) would reach the container
 * (CVE-2024-21626). create and exec call it before they open anything: the fds they open
 * later then land above the checked ones.
 */
export function checkPreservedFds(n: number): void {
  for (let fd = 3; fd < 3 + n; fd++) {
    const origin = sys.fdOrigin(fd);
    if (origin === "inherited" || !isOwnFd(fd, origin)) continue;
    const why = origin === "closed" ? "it is not open" : "it is close-on-exec, so runts opened it itself";
    throw new RuntsError(`--preserve-fds ${n}`, "", 0, `fd ${fd} was not passed to runts by its caller (${why})`);
  }
}

const ENODEV = 19;

/** The helper's ERROR [op, path, errno, detail, op index], naming the config field of the failed op. */
function helperError(m: Message, plan: PlanOp[]): RuntsError {
  const step = plan[fieldInt(m, 4)];
  const errno = fieldInt(m, 2);
  let detail = fieldString(m, 3);
  let field = step?.origin ?? "";
  // mount(2) fails with ENODEV only for a filesystem type the kernel does not have.
  if (step?.op === "MOUNT" && errno === ENODEV && field) {
    field += ".type";
    detail = `unknown filesystem type ${JSON.stringify(step.args[2])}`;
  }
  return new RuntsError(fieldString(m, 0), fieldString(m, 1), errno, detail, field);
}

/** Runs the plan up to OP_READY (the container init then waits on exec.fifo), or for exec up to execve. */
export async function launch(plan: PlanOp[], opts: LaunchOptions): Promise<Launched> {
  const image = await Bun.file(helperImage).bytes();
  const memfd = sys.sealedMemfd("runts-init", image);
  const [ours, theirs] = sys.socketPair();
  const preserved = Array.from({ length: opts.preserveFds }, (_, i) => 3 + i);
  // Bun.spawn, not node:child_process, which costs ~4 ms to load (with node:events).
  let helper: ReturnType<typeof Bun.spawn>;
  try {
    helper = wrapSys("start runts-init", "", () =>
      Bun.spawn([`/proc/self/fd/${memfd}`, String(helperFd.control(opts.preserveFds))], {
        argv0: "runts-init",
        stdio: ["inherit", "inherit", "inherit", ...preserved, theirs, ...(opts.consoleSocket === undefined ? [] : [opts.consoleSocket])],
        env: {},
      }),
    );
  } finally {
    close(theirs);
    close(memfd);
  }
  opts.log.debug(`started runts-init, pid ${helper.pid}`);
  // Bun reports a death by signal N as 128+N, as runc's exit status does.
  const exited = helper.exited;
  let pid = 0;
  try {
    writeAll(ours, encodePlan(plan));
    for (;;) {
      const m = readMessage(ours);
      if (!m) {
        if (opts.until === "exec" && pid > 0) return { pid, exited };
        throw new RuntsError("container init", "", 0, "exited during setup without reporting an error");
      }
      switch (m.type) {
        case Msg.PID:
          pid = fieldInt(m, 0);
          opts.onPid(pid);
          if (opts.newUserNamespace) writeAll(ours, encodeFrame(Msg.IDMAPPED, []));
          break;
        case Msg.SYNC: {
          const data = opts.onSync(fieldString(m, 0));
          writeAll(ours, encodeFrame(Msg.CONTINUE, data));
          break;
        }
        case Msg.SECCOMP_FD: {
          const fd = sys.receiveFd(ours, "runts-init socket");
          try {
            if (!opts.onSeccompFd) throw new RuntsError("read from runts-init", "", 0, "a seccomp notify fd nobody asked for");
            opts.onSeccompFd(fd);
          } finally {
            close(fd);
          }
          break;
        }
        case Msg.READY:
          return { pid, exited };
        case Msg.ERROR:
          throw helperError(m, plan);
        default:
          throw new RuntsError("read from runts-init", "", 0, `unexpected message type ${m.type}`);
      }
    }
  } finally {
    close(ours);
  }
}

/**
 * Drives build/runts-init directly, as src/helper/launch.ts starts it (argv[1] is the fd of
 * its end of a socketpair), to feed it hand-made or malformed frames.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import koffi from "koffi";
import { decodePayload, fieldInt, fieldString, type Message } from "../../src/helper/protocol.ts";
import { close, readFull, writeAll } from "../../src/libc.ts";
import { socketPair } from "../../src/libc.ts";
import { REPO } from "./harness";

export const HELPER = path.join(REPO, "build/runts-init");

const SHUT_WR = 1;
const ECONNRESET = 104;
let shutdownFn: ((fd: number, how: number) => number) | undefined;
function shutdown(fd: number, how: number): number {
  shutdownFn ??= koffi.load("libc.so.6").func("int shutdown(int fd, int how)") as (fd: number, how: number) => number;
  return shutdownFn(fd, how);
}

/** A helper that exits with input left unread resets the socket (ECONNRESET): the end, too. */
function readOrEof(fd: number, len: number): Uint8Array {
  try {
    return readFull(fd, len);
  } catch (err) {
    if ((err as { errno?: number }).errno === ECONNRESET) return new Uint8Array(0);
    throw err;
  }
}

export interface HelperResult {
  /** Exit status, or null when killed by a signal. */
  code: number | null;
  signal: string | null;
  /** Every frame the helper sent, in order. */
  messages: Message[];
  stdout: string;
  stderr: string;
}

/** An ERROR message as [op, path, errno, detail]. */
export function errorFields(m: Message): [string, string, number, string] {
  return [fieldString(m, 0), fieldString(m, 1), fieldInt(m, 2), fieldString(m, 3)];
}

/**
 * Starts the helper (through `wrapper...` if given), writes `input` to its control socket,
 * half-closes the socket and collects what it sends until it exits. `extraFds` become its
 * fds 4, 5, ... (not close-on-exec there).
 */
export async function runHelper(input: Uint8Array, opts: { wrapper?: string[]; extraFds?: number[]; timeoutMs?: number } = {}): Promise<HelperResult> {
  const [ours, theirs] = socketPair();
  const argv = [...(opts.wrapper ?? []), HELPER, "3"];
  let child;
  try {
    child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe", theirs, ...(opts.extraFds ?? [])], env: {} });
  } finally {
    close(theirs);
  }
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  // "close": the process has exited and its stdout and stderr are drained
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 10_000);
  const messages: Message[] = [];
  try {
    try {
      writeAll(ours, input);
    } catch {
      // the helper may refuse (and exit) before it has read everything
    }
    shutdown(ours, SHUT_WR);
    for (;;) {
      const head = readOrEof(ours, 4);
      if (head.length < 4) break;
      const len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true);
      const body = readOrEof(ours, len);
      if (body.length < len) break;
      messages.push(decodePayload(body));
    }
  } finally {
    close(ours);
  }
  const { code, signal } = await exited;
  clearTimeout(timer);
  return { code, signal, messages, stdout, stderr };
}

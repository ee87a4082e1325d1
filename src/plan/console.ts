// process.terminal -> OP_CONSOLE: where the pty master goes (runc's checkTerminal and
// setupConsole). Pure: runts's own situation comes in as ConsoleRequest.
import { ConfigError, RuntsError } from "../errors.ts";
import { ConsoleMode, helperFd, type PlanOp } from "../helper/protocol.ts";
import type { Process } from "../spec/types.ts";

export interface ConsoleRequest {
  /** create, run -d: runts returns before the process ends. */
  detach: boolean;
  /** --console-socket PATH, if given. */
  socket?: string;
  /** runts's stdin is a terminal (a foreground relay then puts it in raw mode). */
  stdinIsTty: boolean;
  preserveFds: number;
  /** Bind the pts onto /dev/console (a container's init; not an exec, as runc). */
  mountConsole: boolean;
}

export interface ConsolePlan {
  op: PlanOp;
  /** runts-init's parent relays runts's stdio through the pty (a foreground process). */
  relay: "raw" | "plain" | undefined;
}

/** OP_CONSOLE for a process with a terminal, or undefined; refuses what runc refuses. */
export function planConsole(p: Process | undefined, req: ConsoleRequest): ConsolePlan | undefined {
  const terminal = p?.terminal === true;
  if (req.socket !== undefined && (!terminal || !req.detach)) {
    throw new RuntsError(
      "--console-socket",
      req.socket,
      0,
      terminal
        ? "is for a detached process (create, run -d, exec -d); in the foreground runts relays the terminal itself"
        : "needs process.terminal true (runc: cannot use console socket if runc will not detach or allocate tty)",
    );
  }
  if (!terminal) return undefined;
  if (req.detach && req.socket === undefined) {
    throw new ConfigError("process.terminal: a detached process (create, run -d, exec -d) needs --console-socket to receive its pty");
  }
  const size = p?.consoleSize;
  const [height, width] = size?.height && size.width ? [size.height, size.width] : [0, 0];
  if (height > 0xffff || width > 0xffff) throw new ConfigError(`process.consoleSize: ${height}x${width} is beyond a terminal's 65535x65535`);
  const mode = req.detach ? ConsoleMode.SOCKET : req.stdinIsTty ? ConsoleMode.RELAY_RAW : ConsoleMode.RELAY;
  const fd = req.detach ? helperFd.consoleSocket(req.preserveFds) : 0;
  return {
    op: { op: "CONSOLE", args: [mode, fd, height, width, req.mountConsole ? 1 : 0], origin: "process.terminal" },
    relay: req.detach ? undefined : req.stdinIsTty ? "raw" : "plain",
  };
}

// runts's side of a terminal: the connected --console-socket handed to runts-init, and the
// caller's terminal settings, put back after a foreground relay (which makes them raw).
import { close } from "../libc.ts";
import * as sys from "../sys.ts";

export interface ConsoleSide {
  /** The connected console socket, for launch's consoleSocket; undefined without one. */
  fd?: number;
  /** Restores runts's terminal (the helper restores it too; this covers a killed helper). */
  restoreTerminal(): void;
  /** Closes runts's copy of the socket once runts-init has its own (again: a no-op). */
  close(): void;
}

/** relay: the plan's; socket: --console-socket, used when the plan sends the master there. */
export function consoleSide(relay: "raw" | "plain" | undefined, socket: string | undefined, planned: boolean): ConsoleSide {
  const attrs = relay === "raw" ? sys.terminalAttrs(0) : undefined;
  let fd = socket !== undefined && planned ? sys.connectUnix(socket) : undefined;
  return {
    get fd() {
      return fd;
    },
    restoreTerminal: () => attrs && sys.setTerminalAttrs(0, attrs),
    close() {
      if (fd !== undefined) close(fd);
      fd = undefined;
    },
  };
}

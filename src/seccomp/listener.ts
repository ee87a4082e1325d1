// Hands a container's seccomp notify fd to the agent at linux.seccomp.listenerPath, as runc
// does: one sendmsg on a unix stream socket, the container process state (runtime-spec
// ContainerProcessState) as JSON, the fd as SCM_RIGHTS.
import { RuntsError } from "../errors.ts";
import type { HookState } from "../hooks.ts";
import { close } from "../libc.ts";
import { connectUnix, sendWithFd } from "../sys.ts";

/** The runtime-spec version runts implements (ContainerProcessState.ociVersion). */
const SPEC_VERSION = "1.2.0";

/** The name of the notify fd in ContainerProcessState.fds (runtime-spec SeccompFdName). */
const SECCOMP_FD_NAME = "seccompFd";

export interface Listener {
  path: string;
  metadata: string;
}

export function processState(listener: Listener, pid: number, state: HookState): string {
  return JSON.stringify({
    ociVersion: SPEC_VERSION,
    fds: [SECCOMP_FD_NAME],
    pid,
    ...(listener.metadata && { metadata: listener.metadata }),
    state,
  });
}

/** Sends fd with the state of process pid; errors name linux.seccomp.listenerPath. */
export function sendToAgent(listener: Listener, fd: number, pid: number, state: HookState): void {
  let sock = -1;
  try {
    sock = connectUnix(listener.path);
    sendWithFd(sock, new TextEncoder().encode(processState(listener, pid, state)), fd, listener.path);
  } catch (err) {
    const e = err as RuntsError;
    throw new RuntsError("send the seccomp notify fd to the agent", listener.path, e.errno ?? 0, e.errno ? "" : e.message, "linux.seccomp.listenerPath");
  } finally {
    if (sock >= 0) close(sock);
  }
}

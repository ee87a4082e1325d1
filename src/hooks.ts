// Hooks that runts runs itself, in the runtime's namespaces: prestart, createRuntime,
// poststart, poststop. createContainer and startContainer hooks run inside the
// container (planned as OP_HOOK).
import { RuntsError } from "./errors.ts";
import type { Hook } from "./spec/types.ts";
import type { StoredState } from "./state/state-dir.ts";

export interface HookState {
  ociVersion: string;
  id: string;
  status: string;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** The state a hook reads on stdin. */
export function hookState(s: StoredState, status: string): HookState {
  return {
    ociVersion: s.ociVersion,
    id: s.id,
    status,
    pid: s.pid || undefined,
    bundle: s.bundle,
    annotations: s.annotations,
  };
}

/**
 * Runs hooks in order. A failure throws, unless warn is given: then (poststart, poststop)
 * it is reported there and the remaining hooks still run, as the runtime-spec says.
 */
export function runHooks(kind: string, hooks: Hook[] | undefined, state: HookState, warn?: (msg: string) => void): void {
  for (const [i, h] of (hooks ?? []).entries()) {
    try {
      runHook(`${kind} hook #${i}`, h, state);
    } catch (err) {
      if (!warn) throw err;
      warn((err as Error).message);
    }
  }
}

function runHook(what: string, h: Hook, state: HookState): void {
  const args = h.args ?? [h.path];
  const env: Record<string, string> = {};
  for (const e of h.env ?? []) {
    const eq = e.indexOf("=");
    if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  // Loaded here, not imported: node:child_process costs `start` and `delete` ~4 ms even
  // when there is no hook to run.
  const { spawnSync } = process.getBuiltinModule("node:child_process");
  const r = spawnSync(h.path, args.slice(1), {
    argv0: args[0],
    env,
    input: JSON.stringify(state),
    stdio: ["pipe", "inherit", "inherit"],
    timeout: h.timeout ? h.timeout * 1000 : undefined,
    killSignal: "SIGKILL",
  });
  if (r.error) {
    const e = r.error as NodeJS.ErrnoException;
    if (e.code === "ETIMEDOUT") throw new RuntsError(what, h.path, 0, `timed out after ${h.timeout} s`);
    throw new RuntsError(what, h.path, Math.abs(e.errno ?? 0), e.errno ? "" : e.message);
  }
  if (r.signal) throw new RuntsError(what, h.path, 0, `killed by ${r.signal}`);
  if (r.status !== 0) throw new RuntsError(what, h.path, 0, `exit status ${r.status}`);
}

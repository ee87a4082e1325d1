// Rootless mode (--rootless true|false|auto) and where its state lives, as runc decides them.
import { UsageError } from "./cli/flags.ts";
import { stat } from "./libc.ts";

/** The owner of a path, or undefined when it does not exist (or cannot be looked at). */
export function pathOwner(path: string): number | undefined {
  try {
    return stat(path).uid;
  } catch {
    return undefined;
  }
}

/** auto: rootless when runts does not run as root (runc's check on the effective uid). */
export function rootlessMode(flag: string, euid: number): boolean {
  if (flag === "true") return true;
  if (flag === "false") return false;
  if (flag === "auto") return euid !== 0;
  throw new UsageError(`--rootless must be true, false or auto, not ${JSON.stringify(flag)}`);
}

/**
 * The default --root: /run/runts, or for a rootless runts that is not root $XDG_RUNTIME_DIR/runts
 * (as runc uses $XDG_RUNTIME_DIR/runc); without XDG_RUNTIME_DIR, /run/user/UID/runts when
 * that directory is the caller's (what logind makes XDG_RUNTIME_DIR), else runc's /run/runts.
 */
export function defaultStateRoot(rootless: boolean, euid: number, env: Record<string, string | undefined>, userRunDirOwner: (dir: string) => number | undefined): string {
  if (!rootless || euid === 0) return "/run/runts";
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && xdg.startsWith("/")) return `${xdg.replace(/\/+$/, "")}/runts`;
  const own = `/run/user/${euid}`;
  if (userRunDirOwner(own) === euid) return `${own}/runts`;
  return "/run/runts";
}

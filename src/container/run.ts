import type { Context } from "./context.ts";
import { create, type CreateOptions } from "./create.ts";
import { remove, start } from "./lifecycle.ts";

export interface RunOptions extends Omit<CreateOptions, "foreground"> {
  detach: boolean;
  keep: boolean;
}

/** Signals `run` passes on to the container's init while it waits, as runc does. */
const FORWARDED = [
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGTERM",
  "SIGUSR1",
  "SIGUSR2",
  "SIGALRM",
  "SIGCONT",
  "SIGWINCH",
] as const;

/** create + start; in the foreground, waits and returns the container's exit status (128+N if killed). */
export async function run(ctx: Context, o: RunOptions): Promise<number> {
  const { state, launched, relay, restoreTerminal } = await create(ctx, { ...o, foreground: !o.detach });
  try {
    start(ctx, o.id);
  } catch (err) {
    remove(ctx, o.id, true);
    await launched.exited;
    restoreTerminal();
    throw err;
  }
  if (o.detach) return 0;
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(state.pid, sig);
    } catch {}
  };
  // With a terminal the relay resizes the pty on SIGWINCH; the kernel tells the process.
  const forwarded = FORWARDED.filter((s) => !(relay && s === "SIGWINCH"));
  for (const s of forwarded) process.on(s, forward);
  const status = await launched.exited;
  for (const s of forwarded) process.off(s, forward);
  restoreTerminal();
  if (!o.keep) remove(ctx, o.id, true);
  return status;
}

import type { Context } from "./context.ts";
import { create, type CreateOptions } from "./create.ts";
import { waitForwarding } from "./forward.ts";
import { remove, start } from "./lifecycle.ts";

export interface RunOptions extends Omit<CreateOptions, "foreground"> {
  detach: boolean;
  keep: boolean;
}

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
  // With a terminal the relay resizes the pty on SIGWINCH; the kernel tells the process.
  const status = await waitForwarding(state.pid, launched.exited, relay ? ["SIGWINCH"] : []);
  restoreTerminal();
  if (!o.keep) remove(ctx, o.id, true);
  return status;
}

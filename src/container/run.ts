import type { Context } from "./context.ts";
import { create, type CreateOptions } from "./create.ts";
import { SignalForwarder } from "./forward.ts";
import { remove, start } from "./lifecycle.ts";

export interface RunOptions extends Omit<CreateOptions, "foreground"> {
  detach: boolean;
  keep: boolean;
}

/** create + start; in the foreground, waits and returns the container's exit status (128+N if killed). */
export async function run(ctx: Context, o: RunOptions): Promise<number> {
  const { state, launched, relay, restoreTerminal } = await create(ctx, { ...o, foreground: !o.detach });
  // With a terminal the relay resizes the pty on SIGWINCH; the kernel tells the process.
  const forwarder = o.detach ? undefined : new SignalForwarder(relay ? ["SIGWINCH"] : []);
  try {
    start(ctx, o.id);
  } catch (err) {
    forwarder?.stop();
    await remove(ctx, o.id, true);
    await launched.exited;
    restoreTerminal();
    throw err;
  }
  if (!forwarder) return 0;
  const status = await forwarder.forwardUntil(state.pid, launched.exited);
  restoreTerminal();
  if (!o.keep) await remove(ctx, o.id, true);
  return status;
}

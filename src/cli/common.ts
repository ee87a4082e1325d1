import type { CreateOptions } from "../container/create.ts";
import type { Parsed } from "./flags.ts";

/** The flags `create` and `run` share. */
export function createFlags(args: Parsed): Omit<CreateOptions, "foreground"> {
  return {
    id: args.positionals[0]!,
    bundle: args.flags.bundle as string,
    pidFile: args.flags["pid-file"] as string | undefined,
    noPivot: args.flags["no-pivot"] === true,
    preserveFds: args.flags["preserve-fds"] as number,
    consoleSocket: args.flags["console-socket"] as string | undefined,
  };
}

import type { CreateOptions } from "../container/create.ts";
import { RuntsError } from "../errors.ts";
import type { Parsed } from "./flags.ts";

/** Flags runc has whose feature runts does not have yet: a clear error instead of silence. */
export function unsupported(args: Parsed, names: string[]): void {
  for (const n of names) {
    if (args.flags[n] !== undefined) throw new RuntsError(`--${n}`, "", 0, "not supported by runts yet");
  }
}

/** The flags `create` and `run` share. */
export function createFlags(args: Parsed): Omit<CreateOptions, "foreground"> {
  return {
    id: args.positionals[0]!,
    bundle: args.flags.bundle as string,
    pidFile: args.flags["pid-file"] as string | undefined,
    noPivot: args.flags["no-pivot"] === true,
    preserveFds: args.flags["preserve-fds"] as number,
    consoleSocket: args.flags["console-socket"] as string | undefined,
    pidfdSocket: args.flags["pidfd-socket"] as string | undefined,
  };
}

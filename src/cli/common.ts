import { RuntsError } from "../errors.ts";
import type { Parsed } from "./flags.ts";

/** Flags runc has whose feature runts does not have yet: a clear error instead of silence. */
export function unsupported(args: Parsed, names: string[]): void {
  for (const n of names) {
    if (args.flags[n] !== undefined) throw new RuntsError(`--${n}`, "", 0, "not supported by runts yet");
  }
}

import type { Logger } from "../log.ts";

/** What every command gets from the global flags. */
export interface Context {
  root: string;
  log: Logger;
  /** --rootless: the container runs in a user namespace of a caller without privileges, cgroups only where delegated. */
  rootless: boolean;
}

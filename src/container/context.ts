import type { Logger } from "../log.ts";

/** What every command gets from the global flags. */
export interface Context {
  root: string;
  /** --root was given (not the default): `list` then fails if it does not exist, as runc 1.5. */
  rootGiven?: boolean;
  log: Logger;
  /** --rootless: the container runs in a user namespace of a caller without privileges, cgroups only where delegated. */
  rootless: boolean;
}

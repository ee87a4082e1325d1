import type { Logger } from "../log.ts";

/** What every command gets from the global flags. */
export interface Context {
  root: string;
  log: Logger;
}

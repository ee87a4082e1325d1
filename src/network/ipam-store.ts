// The IPAM state of a runts root, <root>/.network/ipam.json, changed only under the flock
// of <root>/.network (a container id cannot start with "."), so concurrent creates and
// deletes see each other's allocations.
import { errnoOf, RuntsError, wrapSys } from "../errors.ts";
import { close, flock, mkdirAll, O, open, readText, rename, writeText } from "../libc.ts";
import { emptyIpam, type IpamState } from "./ipam.ts";

const LOCK_EX = 2;

export const ipamDir = (root: string): string => `${root}/.network`;

/**
 * Runs fn on the locked state; save writes a new state atomically (fn saves an allocation
 * before it makes anything, so that a create killed after that leaves a record to undo).
 */
export function withIpam<T>(root: string, fn: (s: IpamState, save: (next: IpamState) => void) => T): T {
  const dir = ipamDir(root);
  wrapSys("create IPAM directory", dir, () => mkdirAll(dir, 0o700));
  const fd = wrapSys("open IPAM directory", dir, () => open(dir, O.RDONLY | O.DIRECTORY));
  try {
    wrapSys("lock IPAM state", dir, () => flock(fd, LOCK_EX, dir));
    return fn(readIpam(root), (next) => writeIpam(root, next));
  } finally {
    close(fd);
  }
}

export function readIpam(root: string): IpamState {
  const path = `${ipamDir(root)}/ipam.json`;
  let text: string;
  try {
    text = readText(path);
  } catch (err) {
    if (errnoOf(err) === 2) return emptyIpam();
    throw new RuntsError("read IPAM state", path, errnoOf(err));
  }
  try {
    return JSON.parse(text) as IpamState;
  } catch {
    throw new RuntsError("read IPAM state", path, 0, "not valid JSON");
  }
}

function writeIpam(root: string, state: IpamState): void {
  const path = `${ipamDir(root)}/ipam.json`;
  const tmp = `${path}.${process.pid}.tmp`;
  wrapSys("write IPAM state", tmp, () => writeText(tmp, JSON.stringify(state), O.WRONLY | O.CREAT | O.TRUNC, 0o600));
  wrapSys("write IPAM state", path, () => rename(tmp, path));
}

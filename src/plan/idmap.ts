// uid/gid mappings of a user namespace (linux.uidMappings, mounts[i].uidMappings): checked
// here as the kernel would refuse them, so the error names the field, and turned into the
// text /proc/PID/uid_map takes.
import { ConfigError } from "../errors.ts";
import type { IdMapping } from "../spec/types.ts";
import { checkIdMappings } from "./ids.ts";

/** UID_GID_MAP_MAX_EXTENTS in the kernel. */
const MAX_EXTENTS = 340;

export interface IdMaps {
  /** /proc/PID/uid_map text: "containerID hostID size" lines. */
  uid: string;
  gid: string;
  uidRanges: IdMapping[];
  gidRanges: IdMapping[];
}

function checkRanges(maps: IdMapping[], where: string): void {
  if (maps.length === 0) throw new ConfigError(`${where}: a user namespace needs at least one mapping`);
  if (maps.length > MAX_EXTENTS) throw new ConfigError(`${where}: ${maps.length} mappings; the kernel takes at most ${MAX_EXTENTS}`);
  // each range's ids and size (src/plan/ids.ts); here what the kernel adds: no overlaps
  checkIdMappings(maps, where);
  for (const [i, m] of maps.entries()) {
    const at = `${where}[${i}]`;
    for (const [j, o] of maps.slice(0, i).entries()) {
      for (const k of ["containerID", "hostID"] as const) {
        if (m[k] < o[k] + o.size && o[k] < m[k] + m.size) {
          throw new ConfigError(`${at}: ${k} range ${m[k]}-${m[k] + m.size - 1} overlaps ${where}[${j}] (${o[k]}-${o[k] + o.size - 1})`);
        }
      }
    }
  }
}

const mapText = (maps: IdMapping[]): string => maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join("");

/** Checked mappings of one user namespace; `where` is the field holding them (e.g. "linux"). */
export function planIdMaps(uid: IdMapping[] | undefined, gid: IdMapping[] | undefined, where: string): IdMaps {
  if (!uid) throw new ConfigError(`${where}.uidMappings: required with ${where}.gidMappings`);
  if (!gid) throw new ConfigError(`${where}.gidMappings: required with ${where}.uidMappings`);
  checkRanges(uid, `${where}.uidMappings`);
  checkRanges(gid, `${where}.gidMappings`);
  return { uid: mapText(uid), gid: mapText(gid), uidRanges: uid, gidRanges: gid };
}

/** The host id a container id maps to, or undefined when it is not mapped. */
export function hostId(maps: IdMapping[], id: number): number | undefined {
  const m = maps.find((r) => id >= r.containerID && id < r.containerID + r.size);
  return m && m.hostID + (id - m.containerID);
}

// User and group ids as runc accepts them: 0..2^31-1. The schema allows any uint32, but
// 4294967295 is (uid_t)-1, which setresuid/setresgid/chown read as "leave unchanged": the
// process would keep running as root.
import { ConfigError } from "../errors.ts";
import type { IdMapping } from "../spec/types.ts";

export const MAX_ID = 2 ** 31 - 1;

export function isValidId(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_ID;
}

/** Throws a ConfigError naming `field` unless id is in 0..MAX_ID. */
export function checkId(id: unknown, field: string): number {
  if (!isValidId(id)) throw new ConfigError(`${field}: ${JSON.stringify(id)} is not a valid id (0..${MAX_ID})`);
  return id;
}

/**
 * linux.uidMappings / gidMappings (or a mount's): containerID, hostID and size in range, a
 * non-empty size, and neither range running past MAX_ID.
 */
export function checkIdMappings(mappings: IdMapping[] | undefined, field: string): void {
  for (const [i, m] of (mappings ?? []).entries()) {
    const where = `${field}[${i}]`;
    checkId(m.containerID, `${where}.containerID`);
    checkId(m.hostID, `${where}.hostID`);
    if (!Number.isInteger(m.size) || m.size < 1 || m.size > MAX_ID + 1) {
      throw new ConfigError(`${where}.size: ${JSON.stringify(m.size)} is not a valid mapping size (1..${MAX_ID + 1})`);
    }
    for (const key of ["containerID", "hostID"] as const) {
      if (m[key] + m.size - 1 > MAX_ID) {
        throw new ConfigError(`${where}.size: ${key} ${m[key]} + size ${m.size} runs past the largest id ${MAX_ID}`);
      }
    }
  }
}

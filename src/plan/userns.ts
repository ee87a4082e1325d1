// The container's user namespace: a new one gets linux.uidMappings/gidMappings, written by
// runts while the init waits (src/container/id-maps.ts); a joined one keeps its own, which
// mappings in the config must then match (as runc 1.2 checks).
import { ConfigError } from "../errors.ts";
import type { IdMapping, Spec } from "../spec/types.ts";
import type { HostFacts } from "./facts.ts";
import { hostId, type IdMaps, planIdMaps } from "./idmap.ts";
import type { NamespacePlan } from "./namespaces.ts";

/** "c h s" lines as sorted triples, to compare a config's mappings with a namespace's. */
function canonical(text: string): string {
  return text
    .split("\n")
    .map((l) => l.trim().split(/\s+/).filter(Boolean).map(Number))
    .filter((t) => t.length === 3)
    .sort((a, b) => a[0]! - b[0]!)
    .map((t) => t.join(" "))
    .join("\n");
}

function checkMapped(spec: Spec, maps: IdMaps): void {
  const u = spec.process?.user;
  if (!u) return;
  const unmapped = (ranges: IdMapping[], id: number, field: string, table: string) => {
    if (hostId(ranges, id) === undefined) throw new ConfigError(`${field}: ${id} is not mapped by linux.${table}`);
  };
  unmapped(maps.uidRanges, u.uid, "process.user.uid", "uidMappings");
  unmapped(maps.gidRanges, u.gid ?? 0, "process.user.gid", "gidMappings");
  for (const [i, g] of (u.additionalGids ?? []).entries()) unmapped(maps.gidRanges, g, `process.user.additionalGids[${i}]`, "gidMappings");
}

/** The id maps runts writes for a new user namespace; undefined when there is none to write. */
export function planUserNamespace(spec: Spec, ns: NamespacePlan, facts: HostFacts): IdMaps | undefined {
  const linux = spec.linux ?? {};
  const given = linux.uidMappings !== undefined || linux.gidMappings !== undefined;
  if (!ns.has("user")) {
    if (given) {
      const field = linux.uidMappings !== undefined ? "uidMappings" : "gidMappings";
      throw new ConfigError(`linux.${field}: mappings need a user namespace (linux.namespaces has no "user")`);
    }
    return undefined;
  }
  const joined = ns.join.find((j) => j.type === "user");
  if (!joined) {
    if (!given) throw new ConfigError("linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
    const maps = planIdMaps(linux.uidMappings, linux.gidMappings, "linux");
    // runts-init sets the container up as root of the new namespace, as runc does.
    if (hostId(maps.uidRanges, 0) === undefined) throw new ConfigError("linux.uidMappings: must map container uid 0 (the container is set up as root of its user namespace)");
    if (hostId(maps.gidRanges, 0) === undefined) throw new ConfigError("linux.gidMappings: must map container gid 0 (the container is set up as root of its user namespace)");
    checkMapped(spec, maps);
    return maps;
  }
  if (given) {
    const want = planIdMaps(linux.uidMappings, linux.gidMappings, "linux");
    const have = facts.userNamespaceMaps(joined.path);
    if (!have) {
      throw new ConfigError(
        `linux.uidMappings: cannot read the mappings of the joined user namespace ${JSON.stringify(joined.path)} to check them (give a /proc/PID/ns/user path, or leave the mappings out)`,
      );
    }
    for (const [k, field] of [["uid", "uidMappings"], ["gid", "gidMappings"]] as const) {
      if (canonical(want[k]) !== canonical(have[k])) {
        throw new ConfigError(`linux.${field}: do not match the mappings of the joined user namespace ${JSON.stringify(joined.path)}`);
      }
    }
    checkMapped(spec, want);
  }
  return undefined;
}

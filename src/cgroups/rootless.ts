// A rootless runts uses a cgroup only where one was delegated to its user (a cgroup v2 subtree
// the user owns, as systemd's Delegate= gives); otherwise the container runs in the caller's
// cgroup, and anything that needs its own cgroup is refused, as runc fails when it cannot set
// limits. Kept apart from the cgroup drivers: it only decides.
import { ConfigError } from "../errors.ts";

/** Device rules that only deny: a user namespace cannot make or open other device nodes anyway. */
function denyOnly(rules: unknown): boolean {
  return Array.isArray(rules) && rules.every((r) => (r as { allow?: boolean })?.allow === false);
}

/**
 * The cgroup directory a rootless container gets: `dir` when its nearest existing ancestor (or
 * itself) belongs to euid, else "" (none). ownerOf gives a path's owner, undefined if absent.
 */
export function rootlessCgroupDir(
  dir: string,
  v2Root: string,
  resources: Record<string, unknown> | undefined,
  euid: number,
  ownerOf: (path: string) => number | undefined,
): string {
  let at = dir;
  let owner = ownerOf(at);
  while (owner === undefined && at.length > v2Root.length) {
    at = at.slice(0, at.lastIndexOf("/"));
    owner = ownerOf(at);
  }
  if (owner === euid && at.length >= v2Root.length) return dir;
  for (const [key, value] of Object.entries(resources ?? {})) {
    if (key === "devices" && denyOnly(value)) continue;
    throw new ConfigError(
      `linux.resources.${key}: needs a cgroup, and rootless runts has none delegated: ${at} belongs to uid ${owner ?? "?"}, not ${euid} (delegate a cgroup v2 subtree to the user and set linux.cgroupsPath in it)`,
    );
  }
  return "";
}

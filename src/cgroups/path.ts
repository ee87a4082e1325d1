// linux.cgroupsPath -> the container's path below each hierarchy's root (pure).
import { ConfigError } from "../errors.ts";

/**
 * "a/b" for "/a/b", "a/b" or the default (the container id). A `..` component is refused
 * (runc resolves it lexically; a path that means something else than it says is a mistake
 * or an attack), as is a systemd slice path (the systemd driver is not supported).
 */
export function containerCgroupPath(cgroupsPath: string | undefined, id: string): string {
  const p = cgroupsPath || `/${id}`;
  if (/^[^/]*:[^/]*:[^/]*$/.test(p)) {
    throw new ConfigError(`linux.cgroupsPath: ${JSON.stringify(p)} is a systemd slice path; the systemd cgroup driver is not supported yet`);
  }
  const parts = p.split("/").filter((s) => s && s !== ".");
  if (parts.includes("..")) throw new ConfigError(`linux.cgroupsPath: ${JSON.stringify(p)}: ".." is not allowed`);
  if (!parts.length) throw new ConfigError("linux.cgroupsPath: cannot be the cgroup root");
  return parts.join("/");
}

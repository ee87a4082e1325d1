// linux.cgroupsPath -> the container's path below each hierarchy's root (pure).
import { ConfigError, RuntsError } from "../errors.ts";

/** Names the kernel uses for a cgroup's own files (cgroup.procs, memory.pressure, ...). */
const INTERFACE_FILE = /^((cgroup|cpu|cpuacct|cpuset|io|irq|memory|pids|rdma|hugetlb|misc|blkio|devices|freezer|net_cls|net_prio|perf_event)\..*|tasks|notify_on_release|release_agent)$/;

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
  const iface = parts.find((part) => INTERFACE_FILE.test(part));
  if (iface !== undefined) {
    const why = `${JSON.stringify(iface)} is the name of a cgroup interface file, not a cgroup`;
    if (!cgroupsPath) throw new RuntsError("container id", id, 0, `${why} (the default cgroup path is /<id>): set linux.cgroupsPath`);
    throw new ConfigError(`linux.cgroupsPath: ${why}`);
  }
  return parts.join("/");
}

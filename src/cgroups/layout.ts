// Which cgroup hierarchies the host mounts: pure v2 ("unified"), v1 controllers plus a
// cgroup2 mount ("hybrid", this project's CI host), or v1 only ("legacy"). Pure: it reads
// /proc/self/mountinfo text.
import { RuntsError } from "../errors.ts";

export type CgroupMode = "unified" | "hybrid" | "legacy";

export interface CgroupLayout {
  mode: CgroupMode;
  /** Mount point of the cgroup2 hierarchy (absent on a legacy host). */
  unified?: string;
  /** v1 controller (or "name=systemd") -> mount point of its hierarchy. */
  v1: Record<string, string>;
}

/**
 * The v1 hierarchies runc uses (libcontainer/cgroups/fs); a container gets a cgroup in each
 * one the host mounts. Others (a stray name=foo hierarchy) are left alone.
 */
export const V1_CONTROLLERS = [
  "cpuset", "cpu", "cpuacct", "memory", "devices", "freezer", "blkio", "pids",
  "hugetlb", "net_cls", "net_prio", "perf_event", "rdma", "misc", "name=systemd",
] as const;

const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function cgroupLayout(mountinfo: string): CgroupLayout {
  const v2: string[] = [];
  const v1: Record<string, string> = {};
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const [fstype, , superOpts = ""] = line.slice(sep + 3).split(" ");
    const point = unescape(line.split(" ")[4] ?? "");
    if (fstype === "cgroup2") v2.push(point);
    if (fstype !== "cgroup") continue;
    for (const opt of superOpts.split(",")) {
      if ((V1_CONTROLLERS as readonly string[]).includes(opt) && !(opt in v1)) v1[opt] = point;
    }
  }
  const hasV1 = Object.keys(v1).some((c) => c !== "name=systemd");
  if (v2.includes("/sys/fs/cgroup") || (!hasV1 && v2.length)) {
    return { mode: "unified", unified: v2.includes("/sys/fs/cgroup") ? "/sys/fs/cgroup" : v2[0], v1: {} };
  }
  if (!hasV1) throw new RuntsError("find cgroup hierarchies", "/proc/self/mountinfo", 0, "no cgroup hierarchy is mounted");
  const unified = v2.includes("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : v2[0];
  return unified ? { mode: "hybrid", unified, v1 } : { mode: "legacy", v1 };
}

/** The v1 hierarchies as a container's cgroup mount shows them: name, controllers, the container's cgroup. */
export function v1Hierarchies(layout: CgroupLayout, rel: string): { name: string; controllers: string; hostDir: string }[] {
  const byMount = new Map<string, string[]>();
  for (const [ctrl, mnt] of Object.entries(layout.v1)) byMount.set(mnt, [...(byMount.get(mnt) ?? []), ctrl]);
  return [...byMount].map(([mnt, ctrls]) => ({ name: mnt.slice(mnt.lastIndexOf("/") + 1), controllers: ctrls.join(","), hostDir: `${mnt}/${rel}` }));
}

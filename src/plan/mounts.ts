import { posix } from "node:path";
import { ConfigError } from "../errors.ts";
import type { PlanOp } from "../helper/protocol.ts";
import type { Mount } from "../spec/types.ts";
import type { HostFacts } from "./facts.ts";

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  REC: 0x4000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

/** mount_setattr(2) attributes. */
export const ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  ATIME_MASK: 0x70,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
} as const;

/** How runts-init opens a mount target (native/runts-init.c TARGET_*). */
const TARGET = { DIR: 1, FILE: 2, NO_SYMLINKS: 4 } as const;

type Change = { set?: number; clear?: number };

const FLAGS: Record<string, Change> = {
  defaults: {},
  ro: { set: MS.RDONLY },
  rw: { clear: MS.RDONLY },
  nosuid: { set: MS.NOSUID },
  suid: { clear: MS.NOSUID },
  nodev: { set: MS.NODEV },
  dev: { clear: MS.NODEV },
  noexec: { set: MS.NOEXEC },
  exec: { clear: MS.NOEXEC },
  sync: { set: MS.SYNCHRONOUS },
  async: { clear: MS.SYNCHRONOUS },
  dirsync: { set: MS.DIRSYNC },
  remount: { set: MS.REMOUNT },
  mand: { set: MS.MANDLOCK },
  nomand: { clear: MS.MANDLOCK },
  atime: { clear: MS.NOATIME },
  noatime: { set: MS.NOATIME },
  diratime: { clear: MS.NODIRATIME },
  nodiratime: { set: MS.NODIRATIME },
  bind: { set: MS.BIND },
  rbind: { set: MS.BIND | MS.REC },
  relatime: { set: MS.RELATIME },
  norelatime: { clear: MS.RELATIME },
  strictatime: { set: MS.STRICTATIME },
  nostrictatime: { clear: MS.STRICTATIME },
  lazytime: { set: MS.LAZYTIME },
  nolazytime: { clear: MS.LAZYTIME },
  nosymfollow: { set: MS.NOSYMFOLLOW },
  symfollow: { clear: MS.NOSYMFOLLOW },
};

const PROPAGATION: Record<string, { flag: number; recursive: boolean }> = {
  private: { flag: MS.PRIVATE, recursive: false },
  rprivate: { flag: MS.PRIVATE, recursive: true },
  shared: { flag: MS.SHARED, recursive: false },
  rshared: { flag: MS.SHARED, recursive: true },
  slave: { flag: MS.SLAVE, recursive: false },
  rslave: { flag: MS.SLAVE, recursive: true },
  unbindable: { flag: MS.UNBINDABLE, recursive: false },
  runbindable: { flag: MS.UNBINDABLE, recursive: true },
};

/** Recursive attributes (mount_setattr with AT_RECURSIVE), as runc's `rro` family. */
const RECURSIVE: Record<string, Change & { atime?: number }> = {
  rro: { set: ATTR.RDONLY },
  rrw: { clear: ATTR.RDONLY },
  rnosuid: { set: ATTR.NOSUID },
  rsuid: { clear: ATTR.NOSUID },
  rnodev: { set: ATTR.NODEV },
  rdev: { clear: ATTR.NODEV },
  rnoexec: { set: ATTR.NOEXEC },
  rexec: { clear: ATTR.NOEXEC },
  rnodiratime: { set: ATTR.NODIRATIME },
  rdiratime: { clear: ATTR.NODIRATIME },
  rrelatime: { atime: ATTR.RELATIME },
  rnorelatime: { atime: ATTR.NOATIME },
  rnoatime: { atime: ATTR.NOATIME },
  ratime: { atime: ATTR.RELATIME },
  rstrictatime: { atime: ATTR.STRICTATIME },
  rnostrictatime: { atime: ATTR.RELATIME },
  rnosymfollow: { set: ATTR.NOSYMFOLLOW },
  rsymfollow: { clear: ATTR.NOSYMFOLLOW },
};

export interface MountOptions {
  flags: number;
  data: string[];
  propagation?: { flag: number; recursive: boolean };
  recursive: { set: number; clear: number };
}

export function parseMountOptions(options: string[] | undefined, where: string): MountOptions {
  const out: MountOptions = { flags: 0, data: [], recursive: { set: 0, clear: 0 } };
  for (const [i, opt] of (options ?? []).entries()) {
    const flag = FLAGS[opt];
    const prop = PROPAGATION[opt];
    const rec = RECURSIVE[opt];
    if (flag) {
      out.flags = (out.flags | (flag.set ?? 0)) & ~(flag.clear ?? 0);
    } else if (prop) {
      out.propagation = prop;
    } else if (rec) {
      if (rec.atime !== undefined) {
        out.recursive.clear |= ATTR.ATIME_MASK;
        out.recursive.set = (out.recursive.set & ~ATTR.ATIME_MASK) | rec.atime;
      }
      out.recursive.set = (out.recursive.set | (rec.set ?? 0)) & ~(rec.clear ?? 0);
      out.recursive.clear = (out.recursive.clear | (rec.clear ?? 0)) & ~(rec.set ?? 0);
    } else if (opt === "tmpcopyup" || opt === "idmap" || opt === "ridmap") {
      throw new ConfigError(`${where}.options[${i}]: ${JSON.stringify(opt)} is not supported by runts yet`);
    } else if (opt && !opt.includes(",")) {
      out.data.push(opt);
    } else {
      throw new ConfigError(`${where}.options[${i}]: invalid mount option ${JSON.stringify(opt)}`);
    }
  }
  return out;
}

/** Mount flags a bind mount takes through mount_setattr, as attribute set/clear masks. */
function bindAttributes(flags: number): { set: number; clear: number } {
  let set = 0;
  let clear = 0;
  const pairs: [number, number][] = [
    [MS.RDONLY, ATTR.RDONLY],
    [MS.NOSUID, ATTR.NOSUID],
    [MS.NODEV, ATTR.NODEV],
    [MS.NOEXEC, ATTR.NOEXEC],
    [MS.NODIRATIME, ATTR.NODIRATIME],
    [MS.NOSYMFOLLOW, ATTR.NOSYMFOLLOW],
  ];
  for (const [ms, attr] of pairs) if (flags & ms) set |= attr;
  const atime = flags & MS.NOATIME ? ATTR.NOATIME : flags & MS.STRICTATIME ? ATTR.STRICTATIME : undefined;
  if (atime !== undefined) {
    set |= atime;
    clear |= ATTR.ATIME_MASK;
  }
  return { set, clear };
}

/** Bind mounts runc lets into /proc (lxcfs and the like); anything else there is refused. */
const PROC_BIND_ALLOWED = new Set([
  "/proc/cpuinfo",
  "/proc/diskstats",
  "/proc/meminfo",
  "/proc/stat",
  "/proc/swaps",
  "/proc/uptime",
  "/proc/loadavg",
  "/proc/slabinfo",
  "/proc/net/dev",
  "/proc/sys/kernel/ns_last_pid",
]);

export interface MountContext {
  bundle: string;
  facts: HostFacts;
  hasNamespace(type: "cgroup" | "network" | "ipc"): boolean;
  /** The container's cgroup directory on the host, bound when it has no cgroup namespace. */
  cgroupDir: string;
}

export function containerPath(p: string): string {
  return posix.normalize(posix.join("/", p));
}

function setattrOps(dest: string, o: MountOptions, top: { set: number; clear: number }): PlanOp[] {
  const ops: PlanOp[] = [];
  if (top.set || top.clear) ops.push({ op: "SETATTR", args: [dest, top.set, top.clear, 0, 0] });
  if (o.propagation) {
    ops.push({ op: "SETATTR", args: [dest, 0, 0, o.propagation.flag, o.propagation.recursive ? 1 : 0] });
  }
  if (o.recursive.set || o.recursive.clear) {
    ops.push({ op: "SETATTR", args: [dest, o.recursive.set, o.recursive.clear, 0, 1] });
  }
  return ops;
}

function bindOps(source: string, dest: string, recursive: boolean, create: number, o: MountOptions): PlanOp[] {
  return [{ op: "BIND", args: [source, dest, recursive ? 1 : 0, create] }, ...setattrOps(dest, o, bindAttributes(o.flags))];
}

/** config.mounts -> helper ops, in config order (later mounts may stack on earlier ones). */
export function planMounts(mounts: Mount[] | undefined, ctx: MountContext): PlanOp[] {
  const ops: PlanOp[] = [];
  for (const [i, m] of (mounts ?? []).entries()) {
    const where = `mounts[${i}]`;
    const dest = containerPath(m.destination);
    if (dest === "/") throw new ConfigError(`${where}.destination: cannot mount over the container's root`);
    const o = parseMountOptions(m.options, where);
    const type = m.type ?? "";
    if (type === "bind" || o.flags & MS.BIND) {
      if (!m.source) throw new ConfigError(`${where}.source: a bind mount needs a source`);
      if (dest.startsWith("/proc/") && !PROC_BIND_ALLOWED.has(dest)) {
        throw new ConfigError(`${where}.destination: bind mounts into /proc are not allowed (${dest})`);
      }
      const source = posix.resolve(ctx.bundle, m.source);
      const kind = ctx.facts.kind(source);
      if (!kind) throw new ConfigError(`${where}.source: ${JSON.stringify(source)} does not exist`);
      ops.push(...bindOps(source, dest, (o.flags & MS.REC) !== 0, kind === "dir" ? 1 : 2, o));
    } else if (type === "cgroup" || type === "cgroup2") {
      if (ctx.hasNamespace("cgroup")) {
        ops.push({ op: "MOUNT", args: ["cgroup2", dest, "cgroup2", o.flags, o.data.join(","), 1] });
        ops.push(...setattrOps(dest, o, { set: 0, clear: 0 }));
      } else {
        ops.push(...bindOps(ctx.cgroupDir, dest, false, 1, o));
      }
    } else if (type === "sysfs" && !ctx.hasNamespace("network")) {
      // A new sysfs needs a network namespace of its own; share the host's read view.
      ops.push(...bindOps("/sys", dest, true, 1, o));
    } else if (type === "mqueue" && !ctx.hasNamespace("ipc")) {
      ops.push(...bindOps("/dev/mqueue", dest, false, 1, o));
    } else {
      if (!type) throw new ConfigError(`${where}.type: required for a mount that is not a bind mount`);
      const flags = o.flags & ~(MS.BIND | MS.REC);
      // proc and sysfs over a symlink could land anywhere (CVE-2019-19921): refuse it, as runc does.
      const create = type === "proc" || type === "sysfs" ? TARGET.DIR | TARGET.NO_SYMLINKS : TARGET.DIR;
      ops.push({ op: "MOUNT", args: [m.source ?? type, dest, type, flags, o.data.join(","), create] });
      ops.push(...setattrOps(dest, o, { set: 0, clear: 0 }));
    }
  }
  return ops;
}

/**
 * The propagation runts gives every mount of the new mount namespace before it sets up the
 * rootfs (recursive, so that nothing the container mounts reaches the host and pivot_root
 * finds no shared mount), and what it applies to the container's "/" after pivot_root.
 */
export function rootPropagation(value: string | undefined): { initial: number; final?: { flag: number; recursive: boolean } } {
  if (!value) return { initial: MS.SLAVE | MS.REC };
  const p = PROPAGATION[value];
  if (!p) throw new ConfigError(`linux.rootfsPropagation: unknown propagation ${JSON.stringify(value)}`);
  return { initial: (p.flag === MS.PRIVATE ? MS.PRIVATE : MS.SLAVE) | MS.REC, final: p };
}

import { posix } from "node:path";
import { ConfigError } from "../errors.ts";
import type { PlanOp } from "../helper/protocol.ts";
import type { Mount } from "../spec/types.ts";
import type { HostFacts } from "./facts.ts";
import { type IdMaps, planIdMaps } from "./idmap.ts";

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
  SILENT: 0x8000,
  POSIXACL: 0x10000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  I_VERSION: 0x800000,
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

/** How runts-init opens a mount target (native/init.h TARGET_*). */
const TARGET = { DIR: 1, FILE: 2, NO_SYMLINKS: 4 } as const;

/** What runts-init does with the directory a new tmpfs covers, if there was one (OP_MOUNT). */
export const COVER = { MODE: 1, CONTENTS: 2 } as const;

type Change = { set?: number; clear?: number };

/** runc 1.1.5's mount flag table; later options override earlier ones. */
const FLAGS: Record<string, Change> = {
  // runc hands "defaults" to the filesystem as data (tmpfs then refuses it); it means no change.
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
  acl: { set: MS.POSIXACL },
  noacl: { clear: MS.POSIXACL },
  iversion: { set: MS.I_VERSION },
  noiversion: { clear: MS.I_VERSION },
  silent: { set: MS.SILENT },
  loud: { clear: MS.SILENT },
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

/**
 * Recursive attributes (mount_setattr with AT_RECURSIVE), as runc 1.1.5 has them: every option
 * adds to one mask (set or clear) and nothing overrides, so a set bit wins over a cleared one.
 * An atime mode goes into the set mask with the whole atime field in the clear mask, as the
 * kernel requires; "rnorelatime" clears relatime's value, 0, so it changes nothing.
 */
const RECURSIVE: Record<string, Change & { atime?: true }> = {
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
  rrelatime: { set: ATTR.RELATIME, atime: true },
  rnorelatime: {},
  rnoatime: { set: ATTR.NOATIME, atime: true },
  ratime: { clear: ATTR.NOATIME },
  rstrictatime: { set: ATTR.STRICTATIME, atime: true },
  rnostrictatime: { clear: ATTR.STRICTATIME },
  rnosymfollow: { set: ATTR.NOSYMFOLLOW },
  rsymfollow: { clear: ATTR.NOSYMFOLLOW },
};

export interface MountOptions {
  flags: number;
  /** Options that are not flags, for the filesystem (runc passes them on the same way). */
  data: string[];
  /** Index in options of the first data option, for errors. */
  firstData?: number;
  /** Applied in order, as runc applies each one. */
  propagation: { flag: number; recursive: boolean }[];
  recursive: { set: number; clear: number };
  copyUp: boolean;
  /** "idmap" or "ridmap" (AT_RECURSIVE), and its index in options. */
  idmap?: { recursive: boolean; at: number };
}

export function parseMountOptions(options: string[] | undefined, where: string): MountOptions {
  const out: MountOptions = { flags: 0, data: [], propagation: [], recursive: { set: 0, clear: 0 }, copyUp: false };
  let atimeFrom = -1;
  let partialAtimeAt = -1;
  for (const [i, opt] of (options ?? []).entries()) {
    const flag = FLAGS[opt];
    const prop = PROPAGATION[opt];
    const rec = RECURSIVE[opt];
    if (flag) {
      out.flags = (out.flags | (flag.set ?? 0)) & ~(flag.clear ?? 0);
    } else if (prop) {
      out.propagation.push(prop);
    } else if (rec) {
      out.recursive.set |= rec.set ?? 0;
      out.recursive.clear |= (rec.clear ?? 0) | (rec.atime ? ATTR.ATIME_MASK : 0);
      if ((rec.set ?? 0) & ATTR.ATIME_MASK) {
        if ((out.recursive.set & ATTR.ATIME_MASK) === (ATTR.NOATIME | ATTR.STRICTATIME)) {
          const first = options![atimeFrom]!;
          throw new ConfigError(
            `${where}.options[${i}]: ${JSON.stringify(opt)} conflicts with ${JSON.stringify(first)} (options[${atimeFrom}]): one recursive atime mode per mount (runc 1.1.5 fails with EINVAL here)`,
          );
        }
        atimeFrom = i;
      }
      if ((rec.clear ?? 0) & ATTR.ATIME_MASK && partialAtimeAt < 0) partialAtimeAt = i;
    } else if (opt === "tmpcopyup") {
      out.copyUp = true;
    } else if (opt === "idmap" || opt === "ridmap") {
      out.idmap = { recursive: opt === "ridmap" || out.idmap?.recursive === true, at: i };
    } else if (opt && !opt.includes(",")) {
      out.firstData ??= i;
      out.data.push(opt);
    } else {
      throw new ConfigError(`${where}.options[${i}]: invalid mount option ${JSON.stringify(opt)}`);
    }
  }
  if (partialAtimeAt >= 0 && (out.recursive.clear & ATTR.ATIME_MASK) !== ATTR.ATIME_MASK) {
    throw new ConfigError(
      `${where}.options[${partialAtimeAt}]: ${JSON.stringify(options![partialAtimeAt])} cannot be applied alone: mount_setattr only replaces the atime mode, so add "rrelatime", "rnoatime" or "rstrictatime" (runc 1.1.5 fails with EINVAL here)`,
    );
  }
  return out;
}

/**
 * The mount_setattr masks that give a bind mount its flags as runc's remount does
 * (MS_REMOUNT | MS_BIND with the mount's flags): only when some flag besides bind, rbind and
 * remount is given (otherwise the bind keeps the source's flags, even for "rw"), and then the
 * per-mount flags become exactly the given ones: ro, nosuid, nodev, noexec and nosymfollow are
 * set or cleared, and the atime mode is kept unless an atime flag is given. Superblock flags
 * (sync, dirsync, lazytime, mand, acl, iversion, silent) cannot change on a bind and are ignored.
 */
export function bindAttributes(flags: number): { set: number; clear: number } | undefined {
  if (!(flags & MS.REMOUNT) && !(flags & ~(MS.BIND | MS.REC))) return undefined;
  let set = 0;
  let clear = ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC | ATTR.NOSYMFOLLOW;
  const pairs: [number, number][] = [
    [MS.RDONLY, ATTR.RDONLY],
    [MS.NOSUID, ATTR.NOSUID],
    [MS.NODEV, ATTR.NODEV],
    [MS.NOEXEC, ATTR.NOEXEC],
    [MS.NOSYMFOLLOW, ATTR.NOSYMFOLLOW],
  ];
  for (const [ms, attr] of pairs) if (flags & ms) set |= attr;
  if (flags & (MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME)) {
    clear |= ATTR.ATIME_MASK | ATTR.NODIRATIME;
    set |= flags & MS.STRICTATIME ? ATTR.STRICTATIME : flags & MS.NOATIME ? ATTR.NOATIME : ATTR.RELATIME;
    if (flags & MS.NODIRATIME) set |= ATTR.NODIRATIME;
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
  hasNamespace(type: "cgroup" | "network" | "ipc" | "user"): boolean;
  /** The container's cgroup directory on the host, bound when it has no cgroup namespace. */
  cgroupDir: string;
  /** The container's user namespace mappings, for idmapped mounts that give none of their own. */
  userMaps?: IdMaps;
}

export function containerPath(p: string): string {
  return posix.normalize(posix.join("/", p));
}

/** What config.mounts become: ops in config order, and read-only remounts for the end of setup. */
export interface MountPlan {
  /** The parent's OP_IDMAP_TREEs (run on the host before clone3), attached by OP_ATTACH_TREE in ops. */
  trees: PlanOp[];
  ops: PlanOp[];
  /** tmpfs (and /dev) mounts stay writable while the rootfs is set up, as in runc: made read-only last. */
  final: PlanOp[];
}

/** Propagation, then recursive attributes (after any per-mount flags, as runc orders them). */
function setattrOps(dest: string, o: MountOptions): PlanOp[] {
  const ops: PlanOp[] = o.propagation.map((p) => ({ op: "SETATTR", args: [dest, 0, 0, p.flag, p.recursive ? 1 : 0] }));
  if (o.recursive.set || o.recursive.clear) {
    ops.push({ op: "SETATTR", args: [dest, o.recursive.set, o.recursive.clear, 0, 1] });
  }
  return ops;
}

/** attrsRecursive: the mount's flags go to every mount of the bound tree, not just its top; tree: an idmapped OP_IDMAP_TREE to attach. */
function bindOps(source: string, dest: string, recursive: boolean, create: number, o: MountOptions, attrsRecursive = false, tree?: number): PlanOp[] {
  const ops: PlanOp[] = [];
  // runc's "remount" on a bind changes the flags of what is mounted at the destination already.
  if (tree !== undefined) ops.push({ op: "ATTACH_TREE", args: [tree, dest, create] });
  else if (!(o.flags & MS.REMOUNT)) ops.push({ op: "BIND", args: [source, dest, recursive ? 1 : 0, create] });
  const attrs = bindAttributes(o.flags);
  if (attrs) ops.push({ op: "SETATTR", args: [dest, attrs.set, attrs.clear, 0, attrsRecursive ? 1 : 0] });
  return [...ops, ...setattrOps(dest, o)];
}

/** config.mounts -> helper ops, in config order (later mounts may stack on earlier ones). */
export function planMounts(mounts: Mount[] | undefined, ctx: MountContext): MountPlan {
  const plan: MountPlan = { trees: [], ops: [], final: [] };
  for (const [i, m] of (mounts ?? []).entries()) {
    const where = `mounts[${i}]`;
    const dest = containerPath(m.destination);
    if (dest === "/") throw new ConfigError(`${where}.destination: cannot mount over the container's root`);
    const o = parseMountOptions(m.options, where);
    const type = m.type ?? "";
    if (o.copyUp && (type !== "tmpfs" || o.flags & MS.BIND)) {
      const at = m.options!.indexOf("tmpcopyup");
      throw new ConfigError(`${where}.options[${at}]: "tmpcopyup" is only for tmpfs mounts`);
    }
    const ops: PlanOp[] = [];
    const isBind = type === "bind" || (o.flags & MS.BIND) !== 0;
    const idmapped = o.idmap !== undefined || m.uidMappings !== undefined || m.gidMappings !== undefined;
    if (idmapped && !isBind) {
      const field = o.idmap ? `options[${o.idmap.at}]: ${JSON.stringify(m.options![o.idmap.at])}` : "uidMappings: idmapping";
      throw new ConfigError(`${where}.${field} is only for bind mounts (type ${JSON.stringify(type)})`);
    }
    if (isBind) {
      if (!m.source) throw new ConfigError(`${where}.source: a bind mount needs a source`);
      if (o.firstData !== undefined) {
        // mount(2) ignores data for a bind; runc 1.1.5 dropped it silently, runc 1.2+ refuses it.
        throw new ConfigError(
          `${where}.options[${o.firstData}]: bind mounts cannot have any filesystem-specific options applied (got ${JSON.stringify(m.options![o.firstData])})`,
        );
      }
      if (dest.startsWith("/proc/") && !PROC_BIND_ALLOWED.has(dest)) {
        throw new ConfigError(`${where}.destination: bind mounts into /proc are not allowed (${dest})`);
      }
      const source = posix.resolve(ctx.bundle, m.source);
      const kind = ctx.facts.kind(source);
      if (!kind) throw new ConfigError(`${where}.source: ${JSON.stringify(source)} does not exist`);
      const recursive = (o.flags & MS.REC) !== 0;
      let tree: number | undefined;
      if (idmapped) {
        if (o.flags & MS.REMOUNT) throw new ConfigError(`${where}.options: "remount" cannot be idmapped (it changes a mount already there)`);
        tree = plan.trees.length;
        plan.trees.push({ op: "IDMAP_TREE", args: idmapTreeArgs(m, source, recursive, o, ctx.userMaps, where), origin: where });
      }
      ops.push(...bindOps(source, dest, recursive, kind === "dir" ? TARGET.DIR : TARGET.FILE, o, false, tree));
    } else if (type === "cgroup" || type === "cgroup2") {
      if (ctx.hasNamespace("cgroup")) {
        ops.push({ op: "MOUNT", args: ["cgroup2", dest, "cgroup2", o.flags, o.data.join(","), TARGET.DIR, 0] });
        ops.push(...setattrOps(dest, o));
      } else {
        ops.push(...bindOps(ctx.cgroupDir, dest, false, TARGET.DIR, o));
      }
    } else if (type === "sysfs" && !ctx.hasNamespace("network") && ctx.hasNamespace("user")) {
      // The host's /sys has submounts, locked in a user namespace's copy of the mounts: it can
      // be bound only with them (rbind), which runts does not choose for the config; runc fails
      // here too (EPERM) and documents the rbind that `spec --rootless` writes.
      throw new ConfigError(
        `${where}.type: sysfs in a user namespace needs a network namespace of its own; without one, bind /sys with "rbind" (as runts spec --rootless writes it)`,
      );
    } else if (type === "sysfs" && !ctx.hasNamespace("network")) {
      // A new sysfs needs a network namespace of its own; share the host's /sys itself, not
      // what is mounted under it (cgroup hierarchies, tracefs, debugfs, securityfs would be
      // writable whatever the sysfs mount's flags say), as runc does; the flags go to the whole
      // bound tree anyway, should a kernel ever clone more than its top.
      ops.push(...bindOps("/sys", dest, false, TARGET.DIR | TARGET.NO_SYMLINKS, o, true));
    } else if (type === "mqueue" && !ctx.hasNamespace("ipc")) {
      ops.push(...bindOps("/dev/mqueue", dest, false, TARGET.DIR, o));
    } else {
      if (!type) throw new ConfigError(`${where}.type: required for a mount that is not a bind mount`);
      let flags = o.flags & ~(MS.BIND | MS.REC);
      if (flags & MS.RDONLY && (type === "tmpfs" || dest === "/dev")) {
        flags &= ~MS.RDONLY;
        plan.final.push({ op: "SETATTR", args: [dest, ATTR.RDONLY, 0, 0, 0], origin: where });
      }
      // proc and sysfs over a symlink could land anywhere (CVE-2019-19921): refuse it, as runc does.
      const create = type === "proc" || type === "sysfs" ? TARGET.DIR | TARGET.NO_SYMLINKS : TARGET.DIR;
      // As runc, a tmpfs over an existing directory takes that directory's mode (and with
      // tmpcopyup its contents).
      const cover = type === "tmpfs" ? COVER.MODE | (o.copyUp ? COVER.CONTENTS : 0) : 0;
      ops.push({ op: "MOUNT", args: [m.source ?? type, dest, type, flags, o.data.join(","), create, cover] });
      ops.push(...setattrOps(dest, o));
    }
    plan.ops.push(...ops.map((op) => ({ ...op, origin: where })));
  }
  return plan;
}

/**
 * [source, recursive, idmapRecursive, uidmap, gidmap] of an idmapped bind mount: the mount's own
 * mappings or, with a bare "idmap"/"ridmap" (runtime-spec 1.2), the container's. In the mount's
 * mapping an id on disk is a containerID, seen as the hostID it maps to.
 */
function idmapTreeArgs(m: Mount, source: string, recursive: boolean, o: MountOptions, userMaps: IdMaps | undefined, where: string): (string | number)[] {
  let maps = userMaps;
  if (m.uidMappings !== undefined || m.gidMappings !== undefined) maps = planIdMaps(m.uidMappings, m.gidMappings, where);
  if (!maps) {
    throw new ConfigError(`${where}.options[${o.idmap!.at}]: "${o.idmap!.recursive ? "ridmap" : "idmap"}" without ${where}.uidMappings needs the container's linux.uidMappings and gidMappings`);
  }
  return [source, recursive ? 1 : 0, o.idmap?.recursive ? 1 : 0, maps.uid, maps.gid];
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

/** Every option name runts gives a meaning (anything else is filesystem data): `features`. */
export const MOUNT_OPTION_NAMES: string[] = [...Object.keys(FLAGS), ...Object.keys(PROPAGATION), ...Object.keys(RECURSIVE), "tmpcopyup", "idmap", "ridmap"].sort();

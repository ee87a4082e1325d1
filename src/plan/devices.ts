import { ConfigError } from "../errors.ts";
import type { PlanOp } from "../helper/protocol.ts";
import type { Device, Mount } from "../spec/types.ts";
import { checkId } from "./ids.ts";
import { containerPath } from "./mounts.ts";

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

/** The devices every container gets (runc's AllowedDevices that are created as nodes). */
export const DEFAULT_DEVICES: Device[] = [
  { type: "c", path: "/dev/null", major: 1, minor: 3 },
  { type: "c", path: "/dev/zero", major: 1, minor: 5 },
  { type: "c", path: "/dev/full", major: 1, minor: 7 },
  { type: "c", path: "/dev/random", major: 1, minor: 8 },
  { type: "c", path: "/dev/urandom", major: 1, minor: 9 },
  { type: "c", path: "/dev/tty", major: 5, minor: 0 },
];

function typeBits(d: Device, where: string): number {
  switch (d.type) {
    case "c":
    case "u":
      return S_IFCHR;
    case "b":
      return S_IFBLK;
    case "p":
      return S_IFIFO;
    default:
      throw new ConfigError(`${where}.type: unknown device type ${JSON.stringify(d.type)} (c, b, u or p)`);
  }
}

/** The host's node to bind-mount where mknod is refused: the same path, if it is the same device. */
function hostNode(d: Device): string {
  return d.type === "p" ? "" : d.path;
}

/** A bind mount onto /dev: the container uses that /dev as it is (runc's needsSetupDev). */
function devIsBound(mounts: Mount[] | undefined): boolean {
  return (mounts ?? []).some(
    (m) => containerPath(m.destination).replace(/\/+$/, "") === "/dev" && (m.type === "bind" || (m.options ?? []).some((o) => o === "bind" || o === "rbind")),
  );
}

/**
 * Device nodes for the defaults plus linux.devices (a config entry replaces a default
 * of the same path), then runc's /dev symlinks, /dev/ptmx -> pts/ptmx unless a device is
 * configured there. Each replaces whatever the image has at its path (runc keeps an
 * image's /dev/fd and friends where there is no /dev tmpfs; runts never trusts them). In a
 * user namespace, where mknod is not allowed, the host's node is bind-mounted instead,
 * once runts-init has checked it is the device planned. Nothing is done to a /dev that is
 * a bind mount, as runc.
 */
export function planDevices(devices: Device[] | undefined, mounts: Mount[] | undefined, userns: boolean): PlanOp[] {
  if (devIsBound(mounts)) return [];
  const byPath = new Map<string, { d: Device; where: string }>();
  for (const d of DEFAULT_DEVICES) byPath.set(d.path, { d, where: "default device" });
  for (const [i, d] of (devices ?? []).entries()) {
    const where = `linux.devices[${i}]`;
    const p = containerPath(d.path);
    if (!p.startsWith("/dev/")) throw new ConfigError(`${where}.path: devices must be under /dev (got ${JSON.stringify(d.path)})`);
    if (d.type !== "p" && (d.major === undefined || d.minor === undefined)) {
      throw new ConfigError(`${where}: type ${JSON.stringify(d.type)} needs major and minor`);
    }
    if (d.uid !== undefined) checkId(d.uid, `${where}.uid`);
    if (d.gid !== undefined) checkId(d.gid, `${where}.gid`);
    byPath.set(p, { d: { ...d, path: p }, where });
  }
  const ops: PlanOp[] = [];
  for (const { d, where } of byPath.values()) {
    const type = typeBits(d, where);
    const [major, minor] = d.type === "p" ? [0, 0] : [d.major ?? 0, d.minor ?? 0];
    if (userns) ops.push({ op: "BIND_DEV", args: [d.path, d.path, type, major, minor] });
    else ops.push({ op: "MKNOD", args: [d.path, type | ((d.fileMode ?? 0o666) & 0o7777), major, minor, d.uid ?? 0, d.gid ?? 0, hostNode(d)] });
  }
  const links: [string, string][] = [
    ["/proc/self/fd", "/dev/fd"],
    ["/proc/self/fd/0", "/dev/stdin"],
    ["/proc/self/fd/1", "/dev/stdout"],
    ["/proc/self/fd/2", "/dev/stderr"],
  ];
  if (!byPath.has("/dev/ptmx")) links.push(["pts/ptmx", "/dev/ptmx"]);
  for (const [target, link] of links) ops.push({ op: "SYMLINK", args: [target, link] });
  return ops;
}

// linux.resources.devices -> the device rules a container's cgroup enforces (pure), and
// their v1 form (devices.deny / devices.allow lines). The v2 form is device-bpf.ts.
import { ConfigError } from "../errors.ts";

export interface DeviceRule {
  allow: boolean;
  type: "a" | "b" | "c";
  /** -1: any. */
  major: number;
  minor: number;
  /** A subset of "rwm", in that order. */
  access: string;
}

const any = { major: -1, minor: -1 };
const rwm = (type: "c", major: number, minor: number): DeviceRule => ({ allow: true, type, major, minor, access: "rwm" });

/**
 * runc's built-in allow list (libcontainer/specconv AllowedDevices, the same in 1.1.5 and
 * 1.4): mknod of any node, /dev/null, zero, full, random, urandom, tty, ptmx, pts/*, and
 * /dev/net/tun (dropped in runc 1.2.0, back in 1.2.4).
 */
export const DEFAULT_ALLOWED: readonly DeviceRule[] = [
  { allow: true, type: "c", ...any, access: "m" },
  { allow: true, type: "b", ...any, access: "m" },
  rwm("c", 1, 3),
  rwm("c", 1, 8),
  rwm("c", 1, 7),
  rwm("c", 5, 0),
  rwm("c", 1, 5),
  rwm("c", 1, 9),
  rwm("c", 136, -1),
  rwm("c", 5, 2),
  rwm("c", 10, 200),
];

export interface SpecDeviceRule {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

/**
 * Deny everything, then the config's rules in order, then the built-in list (runc's order:
 * a config rule cannot take a default away). A later rule wins over an earlier one.
 */
export function deviceRules(spec: SpecDeviceRule[] | undefined): DeviceRule[] {
  const out: DeviceRule[] = [{ allow: false, type: "a", ...any, access: "rwm" }];
  (spec ?? []).forEach((r, i) => {
    const field = `linux.resources.devices[${i}]`;
    const type = r.type ?? "a";
    if (type !== "a" && type !== "b" && type !== "c") throw new ConfigError(`${field}.type: ${JSON.stringify(type)} is not a, b or c`);
    const num = (v: number | undefined, name: string): number => {
      if (v === undefined || v === -1) return -1;
      if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new ConfigError(`${field}.${name}: ${v} is not a device number`);
      return v;
    };
    const given = r.access ?? "rwm";
    if (!/^[rwm]*$/.test(given)) throw new ConfigError(`${field}.access: ${JSON.stringify(given)} is not a subset of "rwm"`);
    const access = ["r", "w", "m"].filter((c) => given.includes(c)).join("");
    if (!access) throw new ConfigError(`${field}.access: empty`);
    out.push({ allow: r.allow, type, major: type === "a" ? -1 : num(r.major, "major"), minor: type === "a" ? -1 : num(r.minor, "minor"), access });
  });
  out.push(...DEFAULT_ALLOWED);
  return out;
}

const v1Number = (n: number): string => (n < 0 ? "*" : String(n));

/** The v1 devices controller writes, in order: a new cgroup inherits its parent's list. */
export function v1DeviceWrites(rules: DeviceRule[]): { file: "devices.allow" | "devices.deny"; value: string }[] {
  return rules.map((r) => ({
    file: r.allow ? "devices.allow" : "devices.deny",
    value: `${r.type} ${v1Number(r.major)}:${v1Number(r.minor)} ${r.access}`,
  }));
}

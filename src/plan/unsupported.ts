// config.json fields runts cannot honour yet, or not on this host: create fails naming the
// field rather than start a container without the confinement it asked for. One row per
// field (a feature that lands removes its row), and the linux.resources fields runts applies
// (a cgroup limit that lands adds its name).
import { ConfigError } from "../errors.ts";
import type { Spec } from "../spec/types.ts";
import type { HostFacts } from "./facts.ts";

interface Unsupported {
  /** Dotted path in config.json. */
  field: string;
  /** Why it is refused. */
  why: string;
  /**
   * A host path whose absence makes the refusal runc's own (the host lacks the feature);
   * where it exists, runts still refuses because it does not apply the field yet.
   */
  needs?: { path: string; missing: string };
}

const NOT_YET = "not supported by runts yet";
const LIMITS = "cgroup resource limits are not supported by runts yet";
const APPARMOR = { path: "/sys/kernel/security/apparmor", missing: "AppArmor is not enabled on this host" };
const SELINUX = { path: "/sys/fs/selinux/enforce", missing: "SELinux is disabled or not supported on this host" };
const RESCTRL = { path: "/sys/fs/resctrl/schemata", missing: "resctrl is not mounted on this host (/sys/fs/resctrl)" };

export const UNSUPPORTED: Unsupported[] = [
  { field: "process.apparmorProfile", why: `AppArmor profiles are ${NOT_YET}`, needs: APPARMOR },
  { field: "process.selinuxLabel", why: `SELinux labels are ${NOT_YET}`, needs: SELINUX },
  { field: "linux.mountLabel", why: `SELinux mount labels are ${NOT_YET}`, needs: SELINUX },
  { field: "linux.intelRdt", why: `Intel RDT is ${NOT_YET}`, needs: RESCTRL },
];

/**
 * The linux.resources fields runts applies (src/cgroups: each one enforced, or refused by the
 * driver naming the field and the controller the host lacks); any a later spec adds is refused.
 */
export const RESOURCES_APPLIED = ["devices", "memory", "cpu", "pids", "blockIO", "hugepageLimits", "network", "rdma", "unified"];

function valueAt(spec: Spec, field: string): unknown {
  let v: unknown = spec;
  for (const key of field.split(".")) v = v && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

/** Whether a value asks for anything: "", false, null, [] and {} (or an object of only those) do not. */
function asks(v: unknown): boolean {
  if (v === undefined || v === null || v === "" || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.values(v).some(asks);
  return true;
}

/** Throws a ConfigError naming the first field of config.json runts would otherwise ignore. */
export function refuseUnsupported(spec: Spec, facts: Pick<HostFacts, "exists">): void {
  for (const u of UNSUPPORTED) {
    const v = valueAt(spec, u.field);
    if (!asks(v)) continue;
    const why = u.needs && !facts.exists(u.needs.path) ? u.needs.missing : u.why;
    throw new ConfigError(`${u.field}: ${why}`);
  }
  for (const [key, v] of Object.entries(spec.linux?.resources ?? {})) {
    if (!RESOURCES_APPLIED.includes(key) && asks(v)) throw new ConfigError(`linux.resources.${key}: ${LIMITS}`);
  }
}

import { ConfigError } from "../errors.ts";
// Capability names (capabilities(7)), in kernel bit order.
export const CAPABILITIES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
] as const;

export interface CapabilityMasks {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
  /** Names the running kernel does not know; runc warns about them and goes on. */
  unsupported: string[];
}

const SETS = ["bounding", "effective", "permitted", "inheritable", "ambient"] as const;

/**
 * Turns the config's capability names into bit masks. An unknown name is an error;
 * a known name beyond the kernel's cap_last_cap is left out with a warning, as runc does.
 */
export function capabilityMasks(
  caps: Partial<Record<(typeof SETS)[number], string[]>> | undefined,
  lastCap: number,
): CapabilityMasks {
  const out: CapabilityMasks = {
    bounding: 0n,
    effective: 0n,
    permitted: 0n,
    inheritable: 0n,
    ambient: 0n,
    unsupported: [],
  };
  for (const set of SETS) {
    for (const [i, name] of (caps?.[set] ?? []).entries()) {
      // Names are exact, as in runc (which ignores "cap_sys_admin" with a warning): never granted.
      const bit = (CAPABILITIES as readonly string[]).indexOf(name);
      if (bit < 0) {
        const upper = name.toUpperCase();
        const hint = (CAPABILITIES as readonly string[]).includes(upper) ? ` (names are case-sensitive: ${upper})` : "";
        throw new ConfigError(`process.capabilities.${set}[${i}]: unknown capability ${JSON.stringify(name)}${hint}`);
      }
      if (bit > lastCap) {
        if (!out.unsupported.includes(name)) out.unsupported.push(name);
        continue;
      }
      out[set] |= 1n << BigInt(bit);
    }
  }
  return out;
}

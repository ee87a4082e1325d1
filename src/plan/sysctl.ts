import { ConfigError } from "../errors.ts";
import type { PlanOp } from "../helper/protocol.ts";
import type { Namespace } from "../spec/types.ts";

const IPC_KEYS = new Set([
  "kernel.msgmax",
  "kernel.msgmnb",
  "kernel.msgmni",
  "kernel.sem",
  "kernel.shmall",
  "kernel.shmmax",
  "kernel.shmmni",
  "kernel.shm_rmid_forced",
]);

/** The namespace a sysctl belongs to, or undefined for host-global keys. */
function namespaceOf(key: string): Namespace["type"] | undefined {
  if (IPC_KEYS.has(key) || key.startsWith("fs.mqueue.")) return "ipc";
  if (key.startsWith("net.")) return "network";
  if (key === "kernel.hostname" || key === "kernel.domainname") return "uts";
  return undefined;
}

/** linux.sysctl -> writes under the container's /proc/sys; only keys of namespaces the container owns. */
export function planSysctl(sysctl: Record<string, string> | undefined, owns: (t: Namespace["type"]) => boolean): PlanOp[] {
  const ops: PlanOp[] = [];
  for (const [key, value] of Object.entries(sysctl ?? {})) {
    const where = `linux.sysctl[${JSON.stringify(key)}]`;
    if (!/^[A-Za-z0-9_.\/-]+$/.test(key) || key.split(/[./]/).some((part) => part === "" || part === "..")) {
      throw new ConfigError(`${where}: invalid sysctl name`);
    }
    const dotted = key.replaceAll("/", ".");
    const ns = namespaceOf(dotted);
    if (!ns) throw new ConfigError(`${where}: not a namespaced sysctl; it would change the host`);
    if (!owns(ns)) throw new ConfigError(`${where}: needs a new ${ns} namespace (the container shares the host's)`);
    ops.push({ op: "WRITE_FILE", args: ["/proc/sys/" + key.replaceAll(".", "/"), value] });
  }
  return ops;
}

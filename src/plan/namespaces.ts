import { ConfigError } from "../errors.ts";
import type { Namespace } from "../spec/types.ts";

export const CLONE_FLAGS: Record<Namespace["type"], number> = {
  mount: 0x00020000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  cgroup: 0x02000000,
  time: 0x00000080,
};

export interface NamespacePlan {
  /** CLONE_NEW* flags for the namespaces the container gets new. */
  cloneFlags: number;
  /** Existing namespaces to join, user namespace first (setns(2) order matters). */
  join: { type: Namespace["type"]; flag: number; path: string }[];
  has(type: Namespace["type"]): boolean;
}

export function planNamespaces(namespaces: Namespace[] | undefined): NamespacePlan {
  const seen = new Set<string>();
  let cloneFlags = 0;
  const join: NamespacePlan["join"] = [];
  for (const [i, ns] of (namespaces ?? []).entries()) {
    const flag = CLONE_FLAGS[ns.type];
    if (flag === undefined) throw new ConfigError(`linux.namespaces[${i}].type: unknown namespace ${JSON.stringify(ns.type)}`);
    if (seen.has(ns.type)) throw new ConfigError(`linux.namespaces[${i}]: duplicate ${ns.type} namespace`);
    seen.add(ns.type);
    if (ns.path) join.push({ type: ns.type, flag, path: ns.path });
    else cloneFlags |= flag;
  }
  if (!seen.has("mount")) {
    // runc then mounts into the host's mount namespace and chroots; runts never does.
    throw new ConfigError("linux.namespaces: a mount namespace (new or joined by path) is required: runts sets up the rootfs only inside one");
  }
  join.sort((a, b) => Number(b.type === "user") - Number(a.type === "user"));
  return { cloneFlags, join, has: (t) => seen.has(t) };
}

// Address management (pure): which bridges runts made, with which subnet, and which
// container holds which address and host ports. ipam-store.ts keeps it, locked, under the
// runts root.
import { RuntsError } from "../errors.ts";
import { broadcast, contains, formatIpv4, formatSubnet, freeSubnet, gateway, parseIpv4, parseSubnet, type Subnet } from "./ipv4.ts";
import type { NetworkRequest, PortMapping } from "./request.ts";

export interface Allocation {
  bridge: string;
  ip: string;
  /** The host end of the container's veth pair. */
  veth: string;
  ports: PortMapping[];
}

export interface IpamState {
  /** Bridges runts made, by name: runts removes each when its last container goes. */
  bridges: Record<string, { subnet: string }>;
  containers: Record<string, Allocation>;
}

export const emptyIpam = (): IpamState => ({ bridges: {}, containers: {} });

/** The host end of a container's veth pair: `rt` and 13 hex digits of a hash of the id (IFNAMSIZ). */
export function vethName(id: string): string {
  // FNV-1a, 64 bits.
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(id)) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return `rt${h.toString(16).padStart(16, "0").slice(0, 13)}`;
}

const samePort = (a: PortMapping, b: PortMapping): boolean =>
  a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIp === undefined || b.hostIp === undefined || a.hostIp === b.hostIp);

export const portText = (p: PortMapping): string => `${p.hostIp ? `${p.hostIp}:` : ""}${p.hostPort}/${p.protocol}`;

export interface Allocated {
  state: IpamState;
  allocation: Allocation;
  subnet: Subnet;
  /** The bridge is new: runts makes it (with this subnet) before the container's veth. */
  newBridge: boolean;
}

/**
 * Allocates an address (the requested one, or the lowest free one) and the host ports for
 * container id. hostRoutes gives the host's routes, which a new bridge's subnet must not
 * overlap (read only for a new bridge).
 */
export function allocate(state: IpamState, id: string, req: NetworkRequest, hostRoutes: () => Subnet[]): Allocated {
  if (state.containers[id]) throw new RuntsError("allocate address", id, 0, "the container already has one");
  const known = state.bridges[req.bridge];
  let subnet: Subnet;
  if (known) {
    subnet = parseSubnet(known.subnet)!;
    if (req.subnet && formatSubnet(req.subnet) !== known.subnet) {
      throw new RuntsError("annotation run.runts.subnet", "", 0, `bridge ${req.bridge} exists with subnet ${known.subnet}, not ${formatSubnet(req.subnet)}`);
    }
  } else {
    const others = Object.values(state.bridges).map((b) => parseSubnet(b.subnet)!);
    const s = req.subnet ?? freeSubnet(hostRoutes(), others);
    if (!s) throw new RuntsError("allocate subnet", req.bridge, 0, "every default subnet overlaps a host route: set annotation run.runts.subnet");
    subnet = s;
  }
  const taken = new Set(Object.values(state.containers).filter((c) => c.bridge === req.bridge).map((c) => c.ip));
  const first = gateway(subnet) + 1;
  const last = broadcast(subnet) - 1;
  let ip: number | undefined;
  if (req.ip) {
    const want = parseIpv4(req.ip)!;
    const src = req.ipSource ?? "annotation run.runts.ip";
    if (!contains(subnet, want) || want < first || want > last) {
      throw new RuntsError(src, "", 0, `${req.ip} is not a container address of bridge ${req.bridge}'s subnet ${formatSubnet(subnet)} (${formatIpv4(first)}-${formatIpv4(last)})`);
    }
    if (taken.has(req.ip)) {
      const holder = Object.entries(state.containers).find(([, c]) => c.bridge === req.bridge && c.ip === req.ip)![0];
      throw new RuntsError(src, "", 0, `${req.ip} is taken by container ${holder}`);
    }
    ip = want;
  } else {
    for (let n = first; n <= last; n++) {
      if (!taken.has(formatIpv4(n))) {
        ip = n;
        break;
      }
    }
    if (ip === undefined) throw new RuntsError("allocate address", req.bridge, 0, `no free address in ${formatSubnet(subnet)}`);
  }
  for (const p of req.ports) {
    for (const [other, c] of Object.entries(state.containers)) {
      const clash = c.ports.find((q) => samePort(p, q));
      if (clash) {
        throw new RuntsError(req.portsSource ?? "annotation run.runts.ports", "", 0, `host port ${portText(p)} is already published by container ${other} (${portText(clash)})`);
      }
    }
  }
  const allocation: Allocation = { bridge: req.bridge, ip: formatIpv4(ip), veth: vethName(id), ports: req.ports };
  const next: IpamState = {
    bridges: known ? state.bridges : { ...state.bridges, [req.bridge]: { subnet: formatSubnet(subnet) } },
    containers: { ...state.containers, [id]: allocation },
  };
  return { state: next, allocation, subnet, newBridge: !known };
}

export interface Released {
  state: IpamState;
  allocation?: Allocation;
  /** The container was its bridge's last: runts removes the bridge and its nft table. */
  lastOnBridge: boolean;
}

/** Frees container id's address and ports; a container without one changes nothing. */
export function release(state: IpamState, id: string): Released {
  const allocation = state.containers[id];
  if (!allocation) return { state, lastOnBridge: false };
  const containers = { ...state.containers };
  delete containers[id];
  const lastOnBridge = !Object.values(containers).some((c) => c.bridge === allocation.bridge);
  const bridges = { ...state.bridges };
  if (lastOnBridge) delete bridges[allocation.bridge];
  return { state: { bridges, containers }, allocation, lastOnBridge };
}

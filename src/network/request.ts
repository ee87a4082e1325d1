// What a container asks of runts's networking, from its annotations and the create/run
// flags (pure). Every error names the annotation or flag it comes from.
import { RuntsError } from "../errors.ts";
import type { Namespace } from "../spec/types.ts";
import { parseIpv4, parseSubnet, type Subnet } from "./ipv4.ts";

export const ANNOTATION = {
  network: "run.runts.network",
  ports: "run.runts.ports",
  ip: "run.runts.ip",
  subnet: "run.runts.subnet",
} as const;

export const DEFAULT_BRIDGE = "runts0";

export type Protocol = "tcp" | "udp";

export interface PortMapping {
  /** Publish only on this host address; all of the host's addresses when absent. */
  hostIp?: string;
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
}

export interface NetworkRequest {
  bridge: string;
  ports: PortMapping[];
  /** A fixed address; the first free one when absent. */
  ip?: string;
  /** The annotation or flag the address and the ports came from, for errors found later. */
  ipSource?: string;
  portsSource?: string;
  /** The bridge's subnet, when runts makes the bridge; a free default one when absent. */
  subnet?: Subnet;
}

/** The create/run flags; each replaces the annotation of the same meaning. */
export interface NetworkFlags {
  network?: string;
  publish: string[];
  ip?: string;
}

interface Value {
  text: string;
  /** `annotation run.runts.ports` or `flag --publish`. */
  source: string;
}

function bad(v: Value, detail: string): RuntsError {
  return new RuntsError(v.source, "", 0, detail);
}

// A Linux interface name (IFNAMSIZ - 1 = 15 bytes), and short enough that runts's nft
// table name `runts-NAME` is readable; no "/" or whitespace, not "." or "..".
const BRIDGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

function parsePort(v: Value, s: string, what: string): number {
  if (!/^\d{1,5}$/.test(s)) throw bad(v, `${what} ${JSON.stringify(s)} is not a port number`);
  const n = Number(s);
  if (n < 1 || n > 65535) throw bad(v, `${what} ${n} is out of range (1-65535)`);
  return n;
}

/** `[hostIp:]hostPort:containerPort[/tcp|/udp]`, comma-separated. */
export function parsePorts(v: Value): PortMapping[] {
  const out: PortMapping[] = [];
  for (const spec of v.text.split(",").map((s) => s.trim())) {
    if (!spec) throw bad(v, `empty port mapping in ${JSON.stringify(v.text)}`);
    const [addrPorts, protocol = "tcp", ...extra] = spec.split("/");
    if (extra.length) throw bad(v, `malformed port mapping ${JSON.stringify(spec)}`);
    if (protocol !== "tcp" && protocol !== "udp") throw bad(v, `unknown protocol ${JSON.stringify(protocol)} in ${JSON.stringify(spec)} (tcp or udp)`);
    const parts = addrPorts!.split(":");
    if (parts.length < 2 || parts.length > 3) {
      throw bad(v, `malformed port mapping ${JSON.stringify(spec)} (want [hostIP:]hostPort:containerPort[/tcp|/udp])`);
    }
    const hostIp = parts.length === 3 ? parts[0]! : undefined;
    if (hostIp !== undefined && parseIpv4(hostIp) === undefined) throw bad(v, `host address ${JSON.stringify(hostIp)} in ${JSON.stringify(spec)} is not an IPv4 address`);
    const m: PortMapping = {
      hostPort: parsePort(v, parts.at(-2)!, "host port"),
      containerPort: parsePort(v, parts.at(-1)!, "container port"),
      protocol,
    };
    if (hostIp !== undefined) m.hostIp = hostIp;
    const dup = out.find((o) => o.protocol === m.protocol && o.hostPort === m.hostPort && (o.hostIp === undefined || m.hostIp === undefined || o.hostIp === m.hostIp));
    if (dup) throw bad(v, `host port ${m.hostPort}/${m.protocol} is published twice`);
    out.push(m);
  }
  return out;
}

function pick(annotations: Record<string, string>, name: string, flag: string | undefined, flagName: string): Value | undefined {
  if (flag !== undefined) return { text: flag, source: `flag ${flagName}` };
  const a = annotations[name];
  return a === undefined ? undefined : { text: a, source: `annotation ${name}` };
}

/**
 * The network a container asks for, or undefined when it asks for none (then runts
 * configures nothing). Asking for one while the config joins a network namespace by path,
 * or has no new one, is an error: that namespace is someone else's.
 */
export function networkRequest(
  annotations: Record<string, string> | undefined,
  flags: NetworkFlags,
  namespaces: Namespace[] | undefined,
): NetworkRequest | undefined {
  const a = annotations ?? {};
  const network = pick(a, ANNOTATION.network, flags.network, "--network");
  const ports = pick(a, ANNOTATION.ports, flags.publish.length ? flags.publish.join(",") : undefined, "--publish");
  const ip = pick(a, ANNOTATION.ip, flags.ip, "--ip");
  const subnet = pick(a, ANNOTATION.subnet, undefined, "");
  const asked = network ?? ports ?? ip ?? subnet;
  if (!asked) return undefined;
  if (network?.text === "none") {
    const extra = ports ?? ip ?? subnet;
    if (extra) throw bad(extra, `needs a network, but ${network.source} is "none"`);
    return undefined;
  }
  const netns = namespaces?.find((n) => n.type === "network");
  if (!netns) throw bad(asked, "the config has no network namespace of its own (linux.namespaces has no \"network\" entry)");
  if (netns.path) throw bad(asked, `the config joins the network namespace ${JSON.stringify(netns.path)}: runts configures only a new one`);
  const req: NetworkRequest = { bridge: DEFAULT_BRIDGE, ports: ports ? parsePorts(ports) : [] };
  if (ports) req.portsSource = ports.source;
  if (network) {
    if (!BRIDGE_NAME.test(network.text)) {
      throw bad(network, `bad bridge name ${JSON.stringify(network.text)} (1-15 letters, digits, "_", "." or "-", starting with a letter or digit)`);
    }
    req.bridge = network.text;
  }
  if (ip) {
    if (parseIpv4(ip.text) === undefined) throw bad(ip, `${JSON.stringify(ip.text)} is not an IPv4 address`);
    req.ip = ip.text;
    req.ipSource = ip.source;
  }
  if (subnet) {
    const s = parseSubnet(subnet.text);
    if (!s) throw bad(subnet, `${JSON.stringify(subnet.text)} is not an IPv4 subnet with a prefix of 8 to 30 (e.g. 10.88.0.0/16)`);
    req.subnet = s;
  }
  return req;
}

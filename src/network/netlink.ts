// rtnetlink requests as bytes (pure): the links, addresses and routes runts makes for a
// container's network, and the parsing of the kernel's answers. Sent by rtnl.ts.
import { concat } from "../libc.ts";

export const RTM = { NEWLINK: 16, DELLINK: 17, GETLINK: 18, NEWADDR: 20, NEWROUTE: 24 } as const;

const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const NLMSG_ERROR = 2;

const AF_INET = 2;
const AF_UNSPEC = 0;
export const IFF_UP = 0x1;

const IFLA = { IFNAME: 3, MTU: 4, MASTER: 10, LINKINFO: 18, NET_NS_FD: 28 } as const;
const IFLA_INFO = { KIND: 1, DATA: 2 } as const;
const VETH_INFO_PEER = 1;
const NLA_F_NESTED = 0x8000;
const IFA = { ADDRESS: 1, LOCAL: 2, BROADCAST: 4 } as const;
const RTA = { DST: 1, OIF: 4, GATEWAY: 5 } as const;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RT_SCOPE_UNIVERSE = 0;
const RTN_UNICAST = 1;

const encoder = new TextEncoder();

const align4 = (n: number): number => (n + 3) & ~3;

/** One rtattr: u16 length, u16 type, the payload padded to 4 bytes. */
export function attr(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(align4(4 + payload.length));
  const view = new DataView(out.buffer);
  view.setUint16(0, 4 + payload.length, true);
  view.setUint16(2, type, true);
  out.set(payload, 4);
  return out;
}

const nested = (type: number, children: Uint8Array[]): Uint8Array => attr(type | NLA_F_NESTED, concat(children));
const str = (type: number, s: string): Uint8Array => attr(type, encoder.encode(`${s}\0`));

function u32(type: number, v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return attr(type, b);
}

/** 192.0.2.1 as its 4 bytes in network order. */
export function ipv4Bytes(ip: string): Uint8Array {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return Uint8Array.from(parts);
}

/** struct ifinfomsg: family, type, index, flags, change. */
function ifinfomsg(index: number, flags: number, change: number): Uint8Array {
  const b = new Uint8Array(16);
  const view = new DataView(b.buffer);
  view.setUint8(0, AF_UNSPEC);
  view.setInt32(4, index, true);
  view.setUint32(8, flags, true);
  view.setUint32(12, change, true);
  return b;
}

/** A complete message: struct nlmsghdr (length, type, flags, seq, pid 0) and body. */
export function message(type: number, flags: number, seq: number, body: Uint8Array[]): Uint8Array {
  const payload = concat(body);
  const out = new Uint8Array(16 + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, out.length, true);
  view.setUint16(4, type, true);
  view.setUint16(6, flags | NLM_F_REQUEST | NLM_F_ACK, true);
  view.setUint32(8, seq, true);
  out.set(payload, 16);
  return out;
}

const CREATE = NLM_F_CREATE | NLM_F_EXCL;

/** ip link add NAME type bridge up */
export function newBridge(seq: number, name: string): Uint8Array {
  return message(RTM.NEWLINK, CREATE, seq, [
    ifinfomsg(0, IFF_UP, IFF_UP),
    str(IFLA.IFNAME, name),
    nested(IFLA.LINKINFO, [str(IFLA_INFO.KIND, "bridge")]),
  ]);
}

/**
 * ip link add HOST master BRIDGE up type veth peer name PEER netns NSFD: the pair in one
 * request, the peer made straight in the container's network namespace.
 */
export function newVeth(seq: number, host: string, bridgeIndex: number, peer: string, peerNetnsFd: number): Uint8Array {
  const peerInfo = concat([ifinfomsg(0, 0, 0), str(IFLA.IFNAME, peer), u32(IFLA.NET_NS_FD, peerNetnsFd)]);
  return message(RTM.NEWLINK, CREATE, seq, [
    ifinfomsg(0, IFF_UP, IFF_UP),
    str(IFLA.IFNAME, host),
    u32(IFLA.MASTER, bridgeIndex),
    nested(IFLA.LINKINFO, [str(IFLA_INFO.KIND, "veth"), nested(IFLA_INFO.DATA, [attr(VETH_INFO_PEER, peerInfo)])]),
  ]);
}

/** ip link set dev INDEX up */
export function linkUp(seq: number, index: number): Uint8Array {
  return message(RTM.NEWLINK, 0, seq, [ifinfomsg(index, IFF_UP, IFF_UP)]);
}

/** ip link del NAME */
export function delLink(seq: number, name: string): Uint8Array {
  return message(RTM.DELLINK, 0, seq, [ifinfomsg(0, 0, 0), str(IFLA.IFNAME, name)]);
}

/** ip link show NAME: the answer is an RTM_NEWLINK message (see linkIndex). */
export function getLink(seq: number, name: string): Uint8Array {
  return message(RTM.GETLINK, 0, seq, [ifinfomsg(0, 0, 0), str(IFLA.IFNAME, name)]);
}

/** ip addr add IP/PREFIX broadcast BRD dev INDEX */
export function newAddress(seq: number, index: number, ip: string, prefix: number, broadcast: string): Uint8Array {
  const ifa = new Uint8Array(8);
  const view = new DataView(ifa.buffer);
  view.setUint8(0, AF_INET);
  view.setUint8(1, prefix);
  view.setUint8(3, RT_SCOPE_UNIVERSE);
  view.setUint32(4, index, true);
  return message(RTM.NEWADDR, CREATE, seq, [
    ifa,
    attr(IFA.LOCAL, ipv4Bytes(ip)),
    attr(IFA.ADDRESS, ipv4Bytes(ip)),
    attr(IFA.BROADCAST, ipv4Bytes(broadcast)),
  ]);
}

/** ip route add default via GATEWAY dev INDEX */
export function newDefaultRoute(seq: number, index: number, gateway: string): Uint8Array {
  const rt = Uint8Array.from([AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST, 0, 0, 0, 0]);
  return message(RTM.NEWROUTE, CREATE, seq, [rt, attr(RTA.GATEWAY, ipv4Bytes(gateway)), u32(RTA.OIF, index)]);
}

export interface Reply {
  type: number;
  seq: number;
  /** For NLMSG_ERROR: 0 is the acknowledgement, otherwise the (positive) errno. */
  errno?: number;
  /** The body after struct nlmsghdr. */
  body: Uint8Array;
}

/** The messages of one datagram from the kernel; throws on a length that does not fit. */
export function parseReplies(buf: Uint8Array): Reply[] {
  const out: Reply[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (buf.length - off >= 16) {
    const len = view.getUint32(off, true);
    if (len < 16 || len > buf.length - off) throw new Error("netlink: truncated message");
    const type = view.getUint16(off + 4, true);
    const seq = view.getUint32(off + 8, true);
    // A copy: the caller reuses its receive buffer.
    const body = buf.slice(off + 16, off + len);
    const reply: Reply = { type, seq, body };
    if (type === NLMSG_ERROR) {
      if (body.length < 4) throw new Error("netlink: truncated error message");
      const err = new DataView(body.buffer, body.byteOffset, 4).getInt32(0, true);
      reply.errno = err === 0 ? 0 : -err;
    }
    out.push(reply);
    off += align4(len);
  }
  return out;
}

/** ifi_index of an RTM_NEWLINK answer. */
export function linkIndex(r: Reply): number {
  if (r.type !== RTM.NEWLINK || r.body.length < 16) throw new Error("netlink: not a link message");
  return new DataView(r.body.buffer, r.body.byteOffset, 16).getInt32(4, true);
}

// The rtnetlink requests runts sends, checked byte by byte against the kernel's layouts
// (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/veth.h), and the parsing of
// the kernel's answers.
import { describe, expect, test } from "bun:test";
import * as nl from "../../src/network/netlink.ts";

const u16 = (v: number) => [v & 255, v >> 8];
const u32 = (v: number) => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24];
/** struct nlmsghdr: len, type, flags (always REQUEST|ACK plus these), seq, pid 0. */
const hdr = (len: number, type: number, flags: number, seq: number) => [...u32(len), ...u16(type), ...u16(flags | 0x1 | 0x4), ...u32(seq), ...u32(0)];
const ifinfo = (index: number, flags: number, change: number) => [0, 0, 0, 0, ...u32(index), ...u32(flags), ...u32(change)];
const cstr = (s: string) => [...new TextEncoder().encode(s), 0];
const pad = (b: number[]) => [...b, ...Array((4 - (b.length % 4)) % 4).fill(0)];
/** struct rtattr: len (without padding), type, payload padded to 4. */
const rta = (type: number, payload: number[]) => pad([...u16(4 + payload.length), ...u16(type), ...payload]);
const CREATE_EXCL = 0x400 | 0x200;

function msg(type: number, flags: number, seq: number, body: number[]): number[] {
  return [...hdr(16 + body.length, type, flags, seq), ...body];
}

describe("requests", () => {
  test("ip link add runts0 type bridge up", () => {
    const body = [...ifinfo(0, 1, 1), ...rta(3, cstr("runts0")), ...rta(18 | 0x8000, rta(1, cstr("bridge")))];
    expect([...nl.newBridge(7, "runts0")]).toEqual(msg(16, CREATE_EXCL, 7, body));
  });

  test("ip link add HOST master BRIDGE up type veth peer name eth0 netns FD", () => {
    const peer = [...ifinfo(0, 0, 0), ...rta(3, cstr("eth0")), ...rta(28, u32(9))];
    const linkinfo = [...rta(1, cstr("veth")), ...rta(2 | 0x8000, rta(1, peer))];
    const body = [...ifinfo(0, 1, 1), ...rta(3, cstr("rt0123")), ...rta(10, u32(5)), ...rta(18 | 0x8000, linkinfo)];
    expect([...nl.newVeth(2, "rt0123", 5, "eth0", 9)]).toEqual(msg(16, CREATE_EXCL, 2, body));
  });

  test("ip link set dev 3 up; ip link del NAME; ip link show NAME", () => {
    expect([...nl.linkUp(4, 3)]).toEqual(msg(16, 0, 4, ifinfo(3, 1, 1)));
    expect([...nl.delLink(5, "veth0")]).toEqual(msg(17, 0, 5, [...ifinfo(0, 0, 0), ...rta(3, cstr("veth0"))]));
    expect([...nl.getLink(6, "eth0")]).toEqual(msg(18, 0, 6, [...ifinfo(0, 0, 0), ...rta(3, cstr("eth0"))]));
  });

  test("ip addr add 10.88.0.2/16 broadcast 10.88.255.255 dev 3", () => {
    const ifa = [2, 16, 0, 0, ...u32(3)];
    const body = [...ifa, ...rta(2, [10, 88, 0, 2]), ...rta(1, [10, 88, 0, 2]), ...rta(4, [10, 88, 255, 255])];
    expect([...nl.newAddress(9, 3, "10.88.0.2", 16, "10.88.255.255")]).toEqual(msg(20, CREATE_EXCL, 9, body));
  });

  test("ip route add default via 10.88.0.1 dev 3", () => {
    // rtmsg: family AF_INET, dst_len 0, src_len 0, tos 0, table MAIN, protocol BOOT, scope UNIVERSE, type UNICAST, flags 0
    const rt = [2, 0, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0];
    const body = [...rt, ...rta(5, [10, 88, 0, 1]), ...rta(4, u32(3))];
    expect([...nl.newDefaultRoute(11, 3, "10.88.0.1")]).toEqual(msg(24, CREATE_EXCL, 11, body));
  });

  test("an address that is not a dotted quad is refused, not encoded", () => {
    for (const bad of ["10.88.0", "10.88.0.256", "a.b.c.d", "10.88.0.1.2"]) expect(() => nl.ipv4Bytes(bad)).toThrow();
  });
});

describe("answers", () => {
  const ack = (seq: number, err: number) => {
    const e = new Uint8Array(4);
    new DataView(e.buffer).setInt32(0, err, true);
    return [...hdr(36, 2, 0, seq), ...e, ...hdr(16, 16, 0, seq)];
  };

  test("an acknowledgement, an error (negative errno) and a link message in one datagram", () => {
    const link = [...hdr(32, 16, 0, 3), ...ifinfo(42, 1, 0)];
    const replies = nl.parseReplies(Uint8Array.from([...link, ...ack(3, 0), ...ack(4, -17)]));
    expect(replies.map((r) => [r.type, r.seq, r.errno])).toEqual([
      [16, 3, undefined],
      [2, 3, 0],
      [2, 4, 17],
    ]);
    expect(nl.linkIndex(replies[0]!)).toBe(42);
  });

  test("the body is a copy: the receive buffer can be reused", () => {
    const buf = Uint8Array.from([...hdr(32, 16, 0, 3), ...ifinfo(42, 1, 0)]);
    const [r] = nl.parseReplies(buf);
    buf.fill(0);
    expect(nl.linkIndex(r!)).toBe(42);
  });

  test("lengths that do not fit are refused", () => {
    expect(() => nl.parseReplies(Uint8Array.from(hdr(64, 16, 0, 1)))).toThrow("truncated");
    expect(() => nl.parseReplies(Uint8Array.from(hdr(8, 16, 0, 1)))).toThrow("truncated");
    expect(() => nl.parseReplies(Uint8Array.from(hdr(18, 2, 0, 1).concat([0, 0])))).toThrow("truncated error");
    expect(() => nl.linkIndex({ type: 2, seq: 1, body: new Uint8Array(16) })).toThrow("not a link message");
  });
});

describe("nf_tables element batches", () => {
  const { deleteTableBatch, publishBatch, unpublishBatch } = require("../../src/network/nft-netlink.ts") as typeof import("../../src/network/nft-netlink.ts");
  const a = {
    bridge: "runts0",
    ip: "10.88.0.2",
    veth: "rtx",
    ports: [
      { hostPort: 8080, containerPort: 80, protocol: "tcp" as const },
      { hostIp: "127.0.0.1", hostPort: 53, containerPort: 5353, protocol: "udp" as const },
    ],
  };
  const nfgen = (family: number, res: number) => [family, 0, res >> 8, res & 255];
  const control = (type: number, seq: number) => [...u32(20), ...u16(type), ...u16(0x1), ...u32(seq), ...u32(0), ...nfgen(0, 10)];
  const elem = (key: number[], data?: number[]) =>
    rta(1 | 0x8000, [...rta(1 | 0x8000, rta(1, key)), ...(data ? rta(2 | 0x8000, rta(1, data)) : [])]);
  const setelem = (type: number, flags: number, seq: number, set: string, elems: number[]) =>
    msg((10 << 8) | type, flags, seq, [...nfgen(2, 0), ...rta(1, cstr("runts-runts0")), ...rta(2, cstr(set)), ...rta(3 | 0x8000, elems)]);
  // Concatenations: each field padded to 4 bytes; ports in network byte order.
  const pubKey = [6, 0, 0, 0, 0x1f, 0x90, 0, 0];
  const addrKey = [127, 0, 0, 1, 17, 0, 0, 0, 0, 53, 0, 0];

  test("publish: NEWSETELEM with NLM_F_CREATE|NLM_F_EXCL per map, between batch begin and end", () => {
    const b = publishBatch(a, 100);
    expect(b.acked).toEqual([101, 102]);
    expect(b.seqs).toEqual([100, 104]);
    expect([...b.bytes]).toEqual([
      ...control(0x10, 100),
      ...setelem(12, 0x400 | 0x200, 101, "pub", elem(pubKey, [10, 88, 0, 2, 0, 80, 0, 0])),
      ...setelem(12, 0x400 | 0x200, 102, "pubaddr", elem(addrKey, [10, 88, 0, 2, 0x14, 0xe9, 0, 0])),
      ...control(0x11, 103),
    ]);
  });

  test("unpublish: DELSETELEM by key; nothing to send without ports", () => {
    const b = unpublishBatch({ ...a, ports: [a.ports[0]!] }, 7);
    expect([...b.bytes]).toEqual([...control(0x10, 7), ...setelem(14, 0, 8, "pub", elem(pubKey)), ...control(0x11, 9)]);
    const none = publishBatch({ ...a, ports: [] }, 1);
    expect([none.bytes.length, none.acked]).toEqual([0, []]);
  });

  test("delete table ip runts-runts0", () => {
    const b = deleteTableBatch("runts0", 20);
    expect(b.acked).toEqual([21]);
    expect([...b.bytes]).toEqual([...control(0x10, 20), ...msg((10 << 8) | 2, 0, 21, [...nfgen(2, 0), ...rta(1, cstr("runts-runts0"))]), ...control(0x11, 22)]);
  });
});

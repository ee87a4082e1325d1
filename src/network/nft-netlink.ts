// Raw nf_tables netlink batches (pure): a container's published ports, added (NLM_F_EXCL:
// EEXIST on a key another container holds) to or deleted from the pub and pubaddr maps of
// nft.ts, and the deletion of a bridge's table. The hot path of create and delete:
// libnftables costs 3-6 ms for its first command in a process (loading, context, cache),
// a batch is one round trip.
import { concat } from "../libc.ts";
import type { Allocation } from "./ipam.ts";
import { attr, ipv4Bytes, message } from "./netlink.ts";
import { tableName } from "./nft.ts";

const NFNL_SUBSYS_NFTABLES = 10;
const NFNL_MSG_BATCH_BEGIN = 0x10;
const NFNL_MSG_BATCH_END = 0x11;
const NFT_MSG_DELTABLE = 2;
const NFT_MSG_NEWSETELEM = 12;
const NFT_MSG_DELSETELEM = 14;
const NFPROTO_IPV4 = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const NLA_F_NESTED = 0x8000;

const NFTA_TABLE_NAME = 1;
const SET_ELEM_LIST = { TABLE: 1, SET: 2, ELEMENTS: 3 } as const;
const NFTA_LIST_ELEM = 1;
const SET_ELEM = { KEY: 1, DATA: 2 } as const;
const NFTA_DATA_VALUE = 1;

const PROTO = { tcp: 6, udp: 17 } as const;

const encoder = new TextEncoder();

const nest = (type: number, children: Uint8Array[]) => attr(type | NLA_F_NESTED, concat(children));
const str = (type: number, s: string) => attr(type, encoder.encode(`${s}\0`));

/** struct nfgenmsg: family, version 0, res_id (big endian). */
const nfgenmsg = (family: number, resId: number) => Uint8Array.from([family, 0, resId >> 8, resId & 255]);

/** A concatenation's fields, each padded to 4 bytes (the kernel's NFT_REG32 layout). */
function fields(...parts: Uint8Array[]): Uint8Array {
  return concat(parts.map((p) => concat([p, new Uint8Array((4 - (p.length % 4)) % 4)])));
}

const port = (n: number) => Uint8Array.from([n >> 8, n & 255]);

interface Element {
  map: "pub" | "pubaddr";
  key: Uint8Array;
  data: Uint8Array;
}

export function elementsOf(a: Allocation): Element[] {
  return a.ports.map((p) => {
    const service = fields(Uint8Array.of(PROTO[p.protocol]), port(p.hostPort));
    const data = fields(ipv4Bytes(a.ip), port(p.containerPort));
    return p.hostIp
      ? { map: "pubaddr" as const, key: concat([fields(ipv4Bytes(p.hostIp)), service]), data }
      : { map: "pub" as const, key: service, data };
  });
}

function batchControl(type: number, seq: number): Uint8Array {
  const m = message(type, 0, seq, [nfgenmsg(0, NFNL_SUBSYS_NFTABLES)]);
  // message() asks for an ACK; batch begin/end carry none: only the element messages are acknowledged.
  new DataView(m.buffer).setUint16(6, NLM_F_REQUEST, true);
  return m;
}

export interface Batch {
  bytes: Uint8Array;
  /** The sequence numbers of the acknowledged messages, in order. */
  acked: number[];
  /** The sequence numbers the batch uses: first, and one past the last. */
  seqs: [number, number];
}

function batch(a: Allocation, type: number, flags: number, withData: boolean, seq: number): Batch {
  const msgs: Uint8Array[] = [batchControl(NFNL_MSG_BATCH_BEGIN, seq)];
  const acked: number[] = [];
  for (const map of ["pub", "pubaddr"] as const) {
    const elems = elementsOf(a).filter((e) => e.map === map);
    if (!elems.length) continue;
    const list = elems.map((e) =>
      nest(NFTA_LIST_ELEM, [nest(SET_ELEM.KEY, [attr(NFTA_DATA_VALUE, e.key)]), ...(withData ? [nest(SET_ELEM.DATA, [attr(NFTA_DATA_VALUE, e.data)])] : [])]),
    );
    const s = seq + msgs.length;
    const m = message((NFNL_SUBSYS_NFTABLES << 8) | type, flags, s, [
      nfgenmsg(NFPROTO_IPV4, 0),
      str(SET_ELEM_LIST.TABLE, tableName(a.bridge)),
      str(SET_ELEM_LIST.SET, map),
      nest(SET_ELEM_LIST.ELEMENTS, list),
    ]);
    msgs.push(m);
    acked.push(s);
  }
  msgs.push(batchControl(NFNL_MSG_BATCH_END, seq + msgs.length));
  return { bytes: acked.length ? concat(msgs) : new Uint8Array(0), acked, seqs: [seq, seq + msgs.length] };
}

/** Adds the container's elements; a key that exists fails the whole batch with EEXIST. */
export const publishBatch = (a: Allocation, seq: number): Batch => batch(a, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL, true, seq);

/** Deletes the container's elements by key (ENOENT if one is not there: nothing is deleted). */
export const unpublishBatch = (a: Allocation, seq: number): Batch => batch(a, NFT_MSG_DELSETELEM, 0, false, seq);

/** delete table ip runts-BRIDGE (ENOENT when it is gone already). */
export function deleteTableBatch(bridge: string, seq: number): Batch {
  const m = message((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE, 0, seq + 1, [nfgenmsg(NFPROTO_IPV4, 0), str(NFTA_TABLE_NAME, tableName(bridge))]);
  return {
    bytes: concat([batchControl(NFNL_MSG_BATCH_BEGIN, seq), m, batchControl(NFNL_MSG_BATCH_END, seq + 2)]),
    acked: [seq + 1],
    seqs: [seq, seq + 3],
  };
}

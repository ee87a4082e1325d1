// Netlink sockets in-process (bun:ffi on libc): the host's NETLINK_ROUTE and NETLINK_NETFILTER
// sockets, and requests on the one runts-init opens in the container's network namespace
// (attach.ts receives it). Messages are built in netlink.ts and nft-netlink.ts. Its socket
// calls are a dlopen of its own, not libc.ts's: that one is compiled by every command, these
// symbols only by networked creates and deletes. errno is libc.ts's.
import { dlopen } from "bun:ffi";
import { RuntsError } from "../errors.ts";
import { errno } from "../libc.ts";
import { linkIndex, parseReplies, type Reply } from "./netlink.ts";
import * as nl from "./netlink.ts";

function load() {
  return dlopen("libc.so.6", {
    socket: { args: ["i32", "i32", "i32"], returns: "i32" },
    send: { args: ["i32", "ptr", "u64", "i32"], returns: "i64" },
    recv: { args: ["i32", "ptr", "u64", "i32"], returns: "i64" },
    close: { args: ["i32"], returns: "i32" },
  }).symbols;
}

let libc: ReturnType<typeof load> | undefined;
const c = (): ReturnType<typeof load> => (libc ??= load());

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
const NETLINK_NETFILTER = 12;
const EINTR = 4;

function netlinkSocket(protocol: number): number {
  const fd = c().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) throw new RuntsError("netlink socket", "", errno());
  return fd;
}

/** A NETLINK_ROUTE socket in runts's own network namespace. */
export function openRtnl(): Rtnl {
  return new Rtnl(netlinkSocket(NETLINK_ROUTE), "host");
}

/** A NETLINK_NETFILTER socket in runts's own network namespace (nft-netlink.ts batches). */
export function openNfnl(): Rtnl {
  return new Rtnl(netlinkSocket(NETLINK_NETFILTER), "host");
}

/** One rtnetlink conversation: each request waits for its acknowledgement. */
export class Rtnl {
  private seq = 1;
  private readonly buf = new Uint8Array(65536);

  constructor(
    readonly fd: number,
    /** Named in errors: "host" or "container". */
    readonly where: string,
  ) {}

  nextSeq(): number {
    return this.seq++;
  }

  private send(what: string, subject: string, msg: Uint8Array): void {
    for (;;) {
      const n = Number(c().send(this.fd, msg, msg.length, 0));
      if (n >= 0) return;
      const e = errno();
      if (e !== EINTR) throw new RuntsError(what, subject, e);
    }
  }

  private receive(what: string, subject: string): Reply[] {
    for (;;) {
      const n = Number(c().recv(this.fd, this.buf, this.buf.length, 0));
      if (n >= 0) return parseReplies(this.buf.subarray(0, n));
      const e = errno();
      if (e !== EINTR) throw new RuntsError(what, subject, e);
    }
  }

  /**
   * Sends a batch (nfnetlink) and waits for the acknowledgement of each message in acked;
   * an error for any message of the batch (seqs: first, one past the last) is thrown.
   */
  batch(what: string, subject: string, b: { bytes: Uint8Array; acked: number[]; seqs: [number, number] }): void {
    if (!b.acked.length) return;
    this.seq = Math.max(this.seq, b.seqs[1]);
    this.send(what, subject, b.bytes);
    const waiting = new Set(b.acked);
    while (waiting.size) {
      for (const r of this.receive(what, subject)) {
        if (r.errno === undefined || r.seq < b.seqs[0] || r.seq >= b.seqs[1]) continue;
        if (r.errno) throw new RuntsError(what, subject, r.errno, `nftables netlink in the ${this.where} network namespace`);
        waiting.delete(r.seq);
      }
    }
  }

  /** Sends one request; its answers, up to the acknowledgement. Throws the kernel's errno. */
  request(what: string, subject: string, msg: Uint8Array): Reply[] {
    const seq = new DataView(msg.buffer, msg.byteOffset).getUint32(8, true);
    this.send(what, subject, msg);
    const answers: Reply[] = [];
    for (;;) {
      for (const r of this.receive(what, subject)) {
        if (r.seq !== seq) continue;
        if (r.errno === undefined) {
          answers.push(r);
          continue;
        }
        if (r.errno) throw new RuntsError(what, subject, r.errno, `netlink in the ${this.where} network namespace`);
        return answers;
      }
    }
  }

  /** The ifindex of a link by name; undefined when there is none (ENODEV). */
  linkIndex(name: string): number | undefined {
    try {
      const answers = this.request("find link", name, nl.getLink(this.nextSeq(), name));
      return answers.length ? linkIndex(answers[0]!) : undefined;
    } catch (err) {
      if (err instanceof RuntsError && err.errno === ENODEV) return undefined;
      throw err;
    }
  }

  /** Deletes a link by name; a link that is already gone is fine. */
  deleteLink(name: string): void {
    try {
      this.request("delete link", name, nl.delLink(this.nextSeq(), name));
    } catch (err) {
      if (!(err instanceof RuntsError && err.errno === ENODEV)) throw err;
    }
  }

  close(): void {
    c().close(this.fd);
  }
}

const ENODEV = 19;

export function closeFd(fd: number): void {
  c().close(fd);
}

// Netlink sockets in-process (bun:ffi on libc): the host's NETLINK_ROUTE socket, and the one
// runts-init opens in the container's network namespace and passes over the control
// socket (SCM_RIGHTS). Messages are built in netlink.ts. A dlopen of its own, not libc.ts's:
// that one is compiled by every command, these symbols only by networked creates and deletes.
import { dlopen, ptr, read as peek } from "bun:ffi";
import { RuntsError } from "../errors.ts";
import { linkIndex, parseReplies, type Reply } from "./netlink.ts";
import * as nl from "./netlink.ts";

function load() {
  return dlopen("libc.so.6", {
    socket: { args: ["i32", "i32", "i32"], returns: "i32" },
    send: { args: ["i32", "ptr", "u64", "i32"], returns: "i64" },
    recv: { args: ["i32", "ptr", "u64", "i32"], returns: "i64" },
    recvmsg: { args: ["i32", "ptr", "i32"], returns: "i64" },
    close: { args: ["i32"], returns: "i32" },
    __errno_location: { args: [], returns: "ptr" },
  }).symbols;
}

let libc: ReturnType<typeof load> | undefined;
const c = (): ReturnType<typeof load> => (libc ??= load());

function errno(): number {
  const p = c().__errno_location();
  return p ? peek.i32(p, 0) : 0;
}

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

const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_CMSG_CLOEXEC = 0x40000000;

/**
 * Receives the fds runts-init sends on the control socket after a MSG_NETNS frame: one
 * byte of data with SCM_RIGHTS. They arrive close-on-exec.
 */
export function receiveFds(sock: number, count: number): number[] {
  const data = new Uint8Array(1);
  const iov = new BigUint64Array([BigInt(ptr(data)), 1n]);
  const controlLen = 16 + align8(4 * count);
  const control = new Uint8Array(controlLen);
  const msg = new BigUint64Array(7);
  msg[2] = BigInt(ptr(iov));
  msg[3] = 1n;
  msg[4] = BigInt(ptr(control));
  msg[5] = BigInt(controlLen);
  for (;;) {
    const n = Number(c().recvmsg(sock, msg, MSG_CMSG_CLOEXEC));
    if (n >= 0) {
      if (n === 0) throw new RuntsError("receive network namespace socket", "", 0, "runts-init closed the socket");
      break;
    }
    const e = errno();
    if (e !== EINTR) throw new RuntsError("receive network namespace socket", "", e);
  }
  const view = new DataView(control.buffer);
  const len = Number(view.getBigUint64(0, true));
  if (Number(msg[5]) < 16 || view.getInt32(8, true) !== SOL_SOCKET || view.getInt32(12, true) !== SCM_RIGHTS || len !== 16 + 4 * count) {
    throw new RuntsError("receive network namespace socket", "", 0, "runts-init sent no file descriptors");
  }
  return Array.from({ length: count }, (_, i) => view.getInt32(16 + 4 * i, true));
}

const align8 = (n: number): number => (n + 7) & ~7;

export function closeFd(fd: number): void {
  c().close(fd);
}

// The wire protocol with runts-init. Twin of native/protocol.h: change both together.
// Frame: u32 length of the rest, then u32 type, u32 argc, argc x (u32 len, bytes).
// Integers are 8-byte little-endian fields; strings are UTF-8 without NUL.

export const MAX_FRAME = 16 << 20;
/** Fields in one op (native/protocol.h MAX_ARGS). */
export const MAX_ARGS = 65536;

export const Msg = {
  PLAN: 1,
  CONTINUE: 2,
  ABORT: 3,
  IDMAPPED: 50,
  PID: 101,
  ERROR: 102,
  SYNC: 103,
  READY: 104,
  SECCOMP_FD: 130,
} as const;

export const Op = {
  CLONE: 1,
  SYNC: 2,
  READY: 3,
  ROOTFS: 4,
  MOUNT: 5,
  BIND: 6,
  SETATTR: 7,
  MKNOD: 8,
  BIND_DEV: 9,
  SYMLINK: 10,
  PIVOT_ROOT: 11,
  MOVE_ROOT: 12,
  MASK: 13,
  READONLY: 14,
  HOSTNAME: 15,
  DOMAINNAME: 16,
  WRITE_FILE: 17,
  RLIMIT: 18,
  USER: 19,
  UMASK: 20,
  CAPS: 21,
  NO_NEW_PRIVS: 22,
  CHDIR: 23,
  LOOKUP: 24,
  WAIT_START: 25,
  HOOK: 26,
  EXEC: 27,
  REMOUNT_ROOT_RO: 28,
  PERSONALITY: 29,
  SECCOMP: 30,
  SCHED: 31,
  IOPRIO: 32,
  AFFINITY: 33,
  MKDIR: 34,
  LOOPBACK_UP: 35,
  JOIN: 40,
  PIDFD_SOCKET: 41,
  LISTEN_PID: 42,
  CONSOLE: 50,
  MEMPOLICY: 51,
  TIME_OFFSETS: 80,
  IDMAP_TREE: 81,
  ATTACH_TREE: 82,
} as const;

/** OP_CONSOLE's mode. */
export const ConsoleMode = {
  /** The master goes to the console socket runts connected (--console-socket). */
  SOCKET: 0,
  /** Foreground: runts-init's parent relays runts's stdio through the pty. */
  RELAY: 1,
  /** The same, with runts's stdin (a terminal) in raw mode. */
  RELAY_RAW: 2,
} as const;

/** The fds runts-init starts with: stdio, the --preserve-fds ones, then these. */
export const helperFd = {
  control: (preserveFds: number) => 3 + preserveFds,
  consoleSocket: (preserveFds: number) => 4 + preserveFds,
};

export type OpName = keyof typeof Op;

/** One field of a frame: a string, an integer, or raw bytes. */
export type Field = string | number | bigint | Uint8Array;

/** One step of the plan: an opcode and its fields, in the order native/protocol.h gives. */
export interface PlanOp {
  op: OpName;
  args: Field[];
  /** The config.json field the op carries out (e.g. "mounts[2]"), named in its errors; not sent. */
  origin?: string;
}

const encoder = new TextEncoder();

function fieldBytes(f: Field): Uint8Array {
  if (typeof f === "string") return encoder.encode(f);
  if (f instanceof Uint8Array) return f;
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(f)), true);
  return b;
}

/** The payload of a frame (without the leading length). */
export function encodePayload(type: number, fields: Field[]): Uint8Array {
  const parts = fields.map(fieldBytes);
  const size = 8 + parts.reduce((n, p) => n + 4 + p.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, parts.length, true);
  let off = 8;
  for (const p of parts) {
    view.setUint32(off, p.length, true);
    out.set(p, off + 4);
    off += 4 + p.length;
  }
  return out;
}

export function encodeFrame(type: number, fields: Field[]): Uint8Array {
  const payload = encodePayload(type, fields);
  if (payload.length > MAX_FRAME) throw new Error(`message too large (${payload.length} bytes)`);
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length, true);
  out.set(payload, 4);
  return out;
}

export function encodePlan(ops: PlanOp[]): Uint8Array {
  return encodeFrame(
    Msg.PLAN,
    ops.map((o) => encodePayload(Op[o.op], o.args)),
  );
}

export interface Message {
  type: number;
  fields: Uint8Array[];
}

/** Decodes one payload; throws on any length that does not fit (the helper is not trusted blindly). */
export function decodePayload(p: Uint8Array): Message {
  if (p.length < 8) throw new Error("helper message too short");
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const type = view.getUint32(0, true);
  const argc = view.getUint32(4, true);
  if (argc > (p.length - 8) / 4) throw new Error("helper message: bad field count");
  const fields: Uint8Array[] = [];
  let off = 8;
  for (let i = 0; i < argc; i++) {
    if (p.length - off < 4) throw new Error("helper message: truncated");
    const len = view.getUint32(off, true);
    off += 4;
    if (len > p.length - off) throw new Error("helper message: field overruns frame");
    fields.push(p.subarray(off, off + len));
    off += len;
  }
  if (off !== p.length) throw new Error("helper message: trailing bytes");
  return { type, fields };
}

const decoder = new TextDecoder();

export function fieldString(m: Message, i: number): string {
  const f = m.fields[i];
  if (!f) throw new Error(`helper message ${m.type}: missing field ${i}`);
  return decoder.decode(f);
}

export function fieldInt(m: Message, i: number): number {
  const f = m.fields[i];
  if (!f || f.length !== 8) throw new Error(`helper message ${m.type}: field ${i} is not an integer`);
  return Number(new DataView(f.buffer, f.byteOffset, 8).getBigUint64(0, true));
}

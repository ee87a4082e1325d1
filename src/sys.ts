// The syscalls runts makes through koffi on libc, loaded only where needed: a terminal
// (--console-socket, a foreground relay: src/container/console.ts imports it then), fds passed
// over unix sockets (the seccomp notify fd), and loadLibrary for optional features' libraries
// (libseccomp). Every other syscall is in libc.ts (bun:ffi), so create, run and exec without
// a terminal or a seccomp filter load no koffi. koffi's native engine is loaded directly: its
// JS loader also loads node:util, node:fs and node:module (DESIGN.md, "Startup").
import { ptr } from "bun:ffi";
import type Koffi from "koffi";
import { RuntsError } from "./errors.ts";
import { close, exists, listDir, memfdWith, mkdir, O, open, rename, S_IFDIR, S_IFMT, stat, unlink, writeAll } from "./libc.ts";

/** Where the addon is in node_modules; scripts/bundle.ts embeds the same file. */
const ADDON = ["@koromix", "koffi-linux-x64", "linux_x64", "koffi.node"];

/** runts's private copy of the embedded addon: a directory only its user can write. */
export const ADDON_CACHE = "/run/runts-cache";

/**
 * koffi's engine. In dist/runts it is an embedded file (Bun.embeddedFiles): a `require` of it
 * would make Bun write it to $TMPDIR/.bun-<uid>-<hash>.node on every run and dlopen that, a
 * shared, guessable path (a directory planted there made each create leak a 1.1 MB temporary
 * file). runts writes it once to ADDON_CACHE (mode 0700, its own) and dlopens it there, or,
 * where it cannot have that directory, from a memfd (~2 ms more per create). Run from source,
 * node_modules' own copy is loaded.
 */
async function loadKoffi(): Promise<typeof Koffi> {
  const stem = ADDON.at(-1)!.replace(".node", "");
  const embedded = Bun.embeddedFiles.find((f) => (f as Blob & { name: string }).name.startsWith(`${stem}-`)) as
    | (Blob & { name: string })
    | undefined;
  // A computed specifier: the bundler must not embed (and Bun extract) a second copy.
  if (!embedded) return require(ADDON.join("/")) as typeof Koffi;
  const mod = { exports: {} as typeof Koffi };
  const cached = await cachedCopy(embedded);
  if (cached) {
    try {
      process.dlopen(mod, cached);
      return mod.exports;
    } catch {
      // Removed meanwhile by a runts of another build (which keeps only its own copy).
    }
  }
  const fd = memfdWith(embedded.name, await embedded.bytes());
  try {
    process.dlopen(mod, `/proc/self/fd/${fd}`);
    return mod.exports;
  } finally {
    close(fd);
  }
}

/** Whether path is a directory of runts's own user that no one else can write or enter. */
function isPrivateDir(path: string, uid: number): boolean {
  try {
    const st = stat(path);
    return (st.mode & S_IFMT) === S_IFDIR && st.uid === uid && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** The addon's path in ADDON_CACHE (written there on first use), or undefined. */
async function cachedCopy(addon: Blob & { name: string }): Promise<string | undefined> {
  const uid = process.geteuid?.() ?? -1;
  const file = `${ADDON_CACHE}/${addon.name}`;
  try {
    if (!isPrivateDir(ADDON_CACHE, uid)) mkdir(ADDON_CACHE, 0o700);
    if (!isPrivateDir(ADDON_CACHE, uid)) return undefined;
    if (exists(file)) return file;
    // Bun names embedded files by content hash: copies of older builds are not used again.
    for (const e of listDir(ADDON_CACHE)) if (e.name.startsWith(`${base(addon.name)}-`)) unlink(`${ADDON_CACHE}/${e.name}`);
    const tmp = `${ADDON_CACHE}/.${addon.name}.${process.pid}`;
    const fd = open(tmp, O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW, 0o600);
    try {
      writeAll(fd, await addon.bytes(), tmp);
    } finally {
      close(fd);
    }
    rename(tmp, file);
    return file;
  } catch {
    return undefined;
  }
}

const base = (name: string): string => name.slice(0, name.lastIndexOf("-"));

/** Also runts's networking's, for libnftables (src/network/nftables.ts). */
export const koffi = await loadKoffi();

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: Uint8Array, len: number): number;
  close(fd: number): number;
  tcgetattr(fd: number, termios: Uint8Array): number;
  tcsetattr(fd: number, when: number, termios: Uint8Array): number;
  memfd_create(name: string, flags: number): number;
  pread(fd: number, buf: Uint8Array, count: number, offset: number): number;
  sendmsg(fd: number, msg: Uint8Array, flags: number): number;
  recvmsg(fd: number, msg: Uint8Array, flags: number): number;
}

let libc: Libc | undefined;

function c(): Libc {
  if (libc) return libc;
  const lib = koffi.load("libc.so.6");
  libc = {
    socket: lib.func("int socket(int domain, int type, int protocol)"),
    connect: lib.func("int connect(int fd, const uint8_t *addr, unsigned int len)"),
    close: lib.func("int close(int fd)"),
    tcgetattr: lib.func("int tcgetattr(int fd, _Out_ uint8_t *termios)"),
    tcsetattr: lib.func("int tcsetattr(int fd, int when, const uint8_t *termios)"),
    memfd_create: lib.func("int memfd_create(const char *name, unsigned int flags)"),
    pread: lib.func("long pread(int fd, _Out_ uint8_t *buf, size_t count, long offset)"),
    sendmsg: lib.func("long sendmsg(int fd, const uint8_t *msg, int flags)"),
    recvmsg: lib.func("long recvmsg(int fd, uint8_t *msg, int flags)"),
  } as Libc;
  return libc;
}

function check(op: string, path: string, r: number): number {
  if (r < 0) throw new RuntsError(op, path, koffi.errno());
  return r;
}

/** A shared library through koffi, for optional features (libseccomp); null when it is not installed. */
export function loadLibrary(name: string): ReturnType<typeof koffi.load> | null {
  try {
    return koffi.load(name);
  } catch {
    return null;
  }
}

/** The errno of the last failed call through koffi. */
export const lastErrno = (): number => koffi.errno();

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;

/** A stream socket connected to the AF_UNIX socket at path (--console-socket, a seccomp agent), close-on-exec. */
export function connectUnix(path: string): number {
  const name = new TextEncoder().encode(path);
  // struct sockaddr_un: sa_family, then sun_path[108] NUL-terminated.
  if (name.length >= 108) throw new RuntsError("connect", path, 36 /* ENAMETOOLONG */);
  const addr = new Uint8Array(110);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(name, 2);
  const fd = check("socket", path, c().socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (c().connect(fd, addr, 2 + name.length + 1) < 0) {
    const err = koffi.errno();
    c().close(fd);
    throw new RuntsError("connect", path, err);
  }
  return fd;
}

/** struct termios on x86_64 glibc is 60 bytes. */
const TERMIOS_SIZE = 60;
const TCSANOW = 0;

/** The terminal settings of fd, or undefined when fd is not a terminal. */
export function terminalAttrs(fd: number): Uint8Array | undefined {
  const t = new Uint8Array(TERMIOS_SIZE);
  return c().tcgetattr(fd, t) === 0 ? t : undefined;
}

export function setTerminalAttrs(fd: number, attrs: Uint8Array): void {
  c().tcsetattr(fd, TCSANOW, attrs);
}

const MFD_CLOEXEC = 1;



/** An anonymous file (memfd) for a library to write into; read it back with readBack. */
export function scratchFile(name: string): number {
  return check("memfd_create", name, c().memfd_create(name, MFD_CLOEXEC));
}

/** The first len bytes of fd, read from offset 0. */
export function readBack(fd: number, len: number, what: string): Uint8Array {
  const buf = new Uint8Array(len);
  let done = 0;
  while (done < len) {
    const n = check("read", what, c().pread(fd, buf.subarray(done), len - done, done));
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_NOSIGNAL = 0x4000;
const MSG_CMSG_CLOEXEC = 0x40000000;
const CMSG_SPACE_ONE_FD = 24; // cmsghdr (16) + int, aligned to 8
const MSGHDR_SIZE = 56;

/**
 * A struct msghdr whose iovec covers data and whose control buffer holds one fd. The caller
 * keeps the result referenced until the call returns: the kernel reads the iovec through it.
 */
function msghdr(data: Uint8Array, control: Uint8Array): { msg: Uint8Array; iov: Uint8Array } {
  const iov = new Uint8Array(16);
  const msg = new Uint8Array(MSGHDR_SIZE);
  const iv = new DataView(iov.buffer);
  iv.setBigUint64(0, BigInt(ptr(data)), true);
  iv.setBigUint64(8, BigInt(data.length), true);
  const mv = new DataView(msg.buffer);
  mv.setBigUint64(16, BigInt(ptr(iov)), true); // msg_iov
  mv.setBigUint64(24, 1n, true); // msg_iovlen
  mv.setBigUint64(32, BigInt(ptr(control)), true); // msg_control
  mv.setBigUint64(40, BigInt(control.length), true); // msg_controllen
  return { msg, iov };
}

/** Receives one byte and the one fd passed with it (SCM_RIGHTS); the fd is close-on-exec. */
export function receiveFd(sock: number, what: string): number {
  const data = new Uint8Array(1);
  const control = new Uint8Array(CMSG_SPACE_ONE_FD);
  const h = msghdr(data, control);
  const msg = h.msg;
  const n = check("recvmsg", what, c().recvmsg(sock, msg, MSG_CMSG_CLOEXEC));
  h.iov.fill(0);
  const cv = new DataView(control.buffer);
  const controllen = Number(new DataView(msg.buffer).getBigUint64(40, true));
  const oneFd = controllen >= 20 && cv.getBigUint64(0, true) === 20n && cv.getInt32(8, true) === SOL_SOCKET && cv.getInt32(12, true) === SCM_RIGHTS;
  if (n !== 1 || !oneFd) {
    throw new RuntsError("recvmsg", what, 0, "expected one file descriptor");
  }
  return cv.getInt32(16, true);
}

/** Sends data with fd attached (SCM_RIGHTS) in one sendmsg. */
export function sendWithFd(sock: number, data: Uint8Array, fd: number, what: string): void {
  const control = new Uint8Array(CMSG_SPACE_ONE_FD);
  const cv = new DataView(control.buffer);
  cv.setBigUint64(0, 20n, true); // cmsg_len = CMSG_LEN(sizeof(int))
  cv.setInt32(8, SOL_SOCKET, true);
  cv.setInt32(12, SCM_RIGHTS, true);
  cv.setInt32(16, fd, true);
  const h = msghdr(data, control);
  const n = check("sendmsg", what, c().sendmsg(sock, h.msg, MSG_NOSIGNAL));
  h.iov.fill(0);
  if (n !== data.length) throw new RuntsError("sendmsg", what, 0, `sent ${n} of ${data.length} bytes`);
}

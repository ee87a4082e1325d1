// Host-side syscalls that Node and Bun lack, through koffi on libc, for create and run
// (the helper's memfd and socket, exec.fifo, openat2). The commands on an existing
// container use fast-libc.ts (bun:ffi) instead.
import koffi from "koffi";
import { RuntsError } from "./errors.ts";

interface Libc {
  memfd_create(name: string, flags: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  write(fd: number, buf: Uint8Array, len: number): number;
  read(fd: number, buf: Uint8Array, len: number): number;
  close(fd: number): number;
  socketpair(domain: number, type: number, protocol: number, fds: number[]): number;
  mkfifo(path: string, mode: number): number;
  syscall(nr: number, ...typedArgs: unknown[]): number;
}

let libc: Libc | undefined;

function c(): Libc {
  if (libc) return libc;
  const lib = koffi.load("libc.so.6");
  libc = {
    memfd_create: lib.func("int memfd_create(const char *name, unsigned int flags)"),
    fcntl: lib.func("int fcntl(int fd, int cmd, int arg)"),
    write: lib.func("long write(int fd, const uint8_t *buf, size_t len)"),
    read: lib.func("long read(int fd, _Out_ uint8_t *buf, size_t len)"),
    close: lib.func("int close(int fd)"),
    socketpair: lib.func("int socketpair(int domain, int type, int protocol, _Out_ int *fds)"),
    mkfifo: lib.func("int mkfifo(const char *path, unsigned int mode)"),
    syscall: lib.func("long syscall(long nr, ...)"),
  } as Libc;
  return libc;
}

const EINTR = 4;

function check(op: string, path: string, r: number): number {
  if (r < 0) throw new RuntsError(op, path, koffi.errno());
  return r;
}

/** Retries a call interrupted by a signal (runts forwards signals while it waits). */
function retry(op: string, path: string, call: () => number): number {
  for (;;) {
    const r = call();
    if (r >= 0 || koffi.errno() !== EINTR) return check(op, path, r);
  }
}

const MFD_CLOEXEC = 1;
const MFD_ALLOW_SEALING = 2;
const F_ADD_SEALS = 1033;
const F_SEAL_ALL = 1 | 2 | 4 | 8; // SEAL, SHRINK, GROW, WRITE

/** An executable, sealed in-memory copy of `image` (the CVE-2019-5736 defence). */
export function sealedMemfd(name: string, image: Uint8Array): number {
  const fd = check("memfd_create", name, c().memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  writeAll(fd, image);
  check("seal memfd", name, c().fcntl(fd, F_ADD_SEALS, F_SEAL_ALL));
  return fd;
}

export function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length; ) {
    const chunk = off === 0 ? data : data.subarray(off);
    off += retry("write", "", () => c().write(fd, chunk, chunk.length));
  }
}

/** Reads up to len bytes; returns fewer only at end of file. */
export function readExactly(fd: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let off = 0;
  while (off < len) {
    const buf = new Uint8Array(len - off);
    const n = retry("read", "", () => c().read(fd, buf, buf.length));
    if (n === 0) break;
    out.set(buf.subarray(0, n), off);
    off += n;
  }
  return out.subarray(0, off);
}

export function close(fd: number): void {
  c().close(fd);
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;

export function socketPair(): [number, number] {
  const fds = [-1, -1];
  check("socketpair", "", c().socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  return [fds[0]!, fds[1]!];
}

export function mkfifo(path: string, mode: number): void {
  check("mkfifo", path, c().mkfifo(path, mode));
}

const SYS_OPENAT2 = 437;
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_IN_ROOT = 0x10;

/** Opens path inside root for reading, resolving every component inside root (openat2 RESOLVE_IN_ROOT). */
export function openInRoot(rootFd: number, path: string): number {
  const how = new Uint8Array(24);
  const view = new DataView(how.buffer);
  view.setBigUint64(0, BigInt(O_RDONLY | O_CLOEXEC), true);
  view.setBigUint64(16, BigInt(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), true);
  return check("openat2", path, c().syscall(SYS_OPENAT2, "int", rootFd, "const char *", path, "uint8_t *", how, "size_t", 24));
}

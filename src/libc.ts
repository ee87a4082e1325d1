// The syscalls of every command, through bun:ffi on libc: plain files and directories, and
// what create, run and exec need to start runts-init (the sealed memfd, the socketpair, fd
// flags, exec.fifo, openat2, isatty).
//
// Why not node:fs: loading it costs a Bun process ~2 ms, and koffi ~3 ms (~15 ms on a busy
// host) while runc's whole `start` or `state` takes ~9 ms; with this module `start`, `state`,
// `kill` and `delete` load nothing but their own code, and create, run and exec no koffi
// unless they have a terminal (sys.ts; DESIGN.md, "Startup").
import { CString, dlopen, ptr, read as peek } from "bun:ffi";
import { RuntsError, SysError } from "./errors.ts";
import { sleepMs } from "./sleep.ts";

function load() {
  return dlopen("libc.so.6", {
    open: { args: ["ptr", "i32", "u32"], returns: "i32" },
    read: { args: ["i32", "ptr", "u64"], returns: "i64" },
    write: { args: ["i32", "ptr", "u64"], returns: "i64" },
    close: { args: ["i32"], returns: "i32" },
    memfd_create: { args: ["ptr", "u32"], returns: "i32" },
    flock: { args: ["i32", "i32"], returns: "i32" },
    poll: { args: ["ptr", "u64", "i32"], returns: "i32" },
    openat: { args: ["i32", "ptr", "i32", "u32"], returns: "i32" },
    unlink: { args: ["ptr"], returns: "i32" },
    unlinkat: { args: ["i32", "ptr", "i32"], returns: "i32" },
    rmdir: { args: ["ptr"], returns: "i32" },
    mkdir: { args: ["ptr", "u32"], returns: "i32" },
    rename: { args: ["ptr", "ptr"], returns: "i32" },
    access: { args: ["ptr", "i32"], returns: "i32" },
    chmod: { args: ["ptr", "u32"], returns: "i32" },
    readlink: { args: ["ptr", "ptr", "u64"], returns: "i64" },
    realpath: { args: ["ptr", "ptr"], returns: "ptr" },
    stat: { args: ["ptr", "ptr"], returns: "i32" },
    fstat: { args: ["i32", "ptr"], returns: "i32" },
    opendir: { args: ["ptr"], returns: "ptr" },
    readdir: { args: ["ptr"], returns: "ptr" },
    closedir: { args: ["ptr"], returns: "i32" },
    __errno_location: { args: [], returns: "ptr" },
    socketpair: { args: ["i32", "i32", "i32", "ptr"], returns: "i32" },
    mkfifo: { args: ["ptr", "u32"], returns: "i32" },
    isatty: { args: ["i32"], returns: "i32" },
    // fcntl and openat2 through syscall(2): glibc's is assembly that takes its arguments
    // from registers, so a fixed declaration calls it correctly (fcntl(3)'s C varargs not).
    syscall: { args: ["i64", "i64", "i64", "i64", "i64"], returns: "i64" },
  }).symbols;
}

let libc: ReturnType<typeof load> | undefined;
const c = (): ReturnType<typeof load> => (libc ??= load());

/** errno of the calling thread after a failed call, through bun:ffi (this file's or another's). */
export function errno(): number {
  const p = c().__errno_location();
  return p ? peek.i32(p, 0) : 0;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const cstr = (s: string): Uint8Array => encoder.encode(`${s}\0`);

const EINTR = 4;
const EAGAIN = 11;

/** Runs a call until it is not interrupted by a signal; throws SysError on failure. */
function check(syscall: string, path: string, call: () => number): number {
  for (;;) {
    const r = call();
    if (r >= 0) return r;
    const e = errno();
    if (e !== EINTR) throw new SysError(syscall, path, e);
  }
}

export const O = {
  RDONLY: 0,
  WRONLY: 1,
  CREAT: 0o100,
  EXCL: 0o200,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  CLOEXEC: 0o2000000,
} as const;

export function open(path: string, flags: number, mode = 0): number {
  const p = cstr(path);
  return check("open", path, () => c().open(p, flags | O.CLOEXEC, mode));
}

/** openat(2): path relative to the directory dirFd (where relative paths would pass PATH_MAX). */
export function openAt(dirFd: number, path: string, flags: number): number {
  const p = cstr(path);
  return check("openat", path, () => c().openat(dirFd, p, flags | O.CLOEXEC, 0));
}

const AT_REMOVEDIR = 0x200;

/** rmdir of name in the directory dirFd. */
export function rmdirAt(dirFd: number, name: string): void {
  const p = cstr(name);
  check("rmdir", name, () => c().unlinkat(dirFd, p, AT_REMOVEDIR));
}

const MFD_CLOEXEC = 1;

/** An anonymous in-memory file holding data (no path anyone else can reach or plant). */
export function memfdWith(name: string, data: Uint8Array): number {
  const fd = check("memfd_create", name, () => c().memfd_create(cstr(name), MFD_CLOEXEC));
  try {
    writeAll(fd, data, name);
  } catch (err) {
    close(fd);
    throw err;
  }
  return fd;
}

export function close(fd: number): void {
  c().close(fd);
}

/** One read(2); EAGAIN (a non-blocking fd with nothing to read) gives -1. */
export function readSome(fd: number, buf: Uint8Array, path = ""): number {
  for (;;) {
    const r = Number(c().read(fd, buf, buf.length));
    if (r >= 0) return r;
    const e = errno();
    if (e === EAGAIN) return -1;
    if (e !== EINTR) throw new SysError("read", path, e);
  }
}

/** Reads len bytes; fewer only at end of file. */
export function readFull(fd: number, len: number, path = ""): Uint8Array {
  const out = new Uint8Array(len);
  let off = 0;
  while (off < len) {
    const n = readSome(fd, out.subarray(off), path);
    if (n <= 0) break;
    off += n;
  }
  return out.subarray(0, off);
}

export function writeAll(fd: number, data: Uint8Array, path = ""): void {
  for (let off = 0; off < data.length; ) {
    const rest = data.subarray(off);
    const r = Number(c().write(fd, rest, rest.length));
    if (r >= 0) {
      off += r;
      continue;
    }
    const e = errno();
    // EAGAIN: a non-blocking pipe from the caller (our stdout); wait for room.
    if (e === EAGAIN) sleepMs(1);
    else if (e !== EINTR) throw new SysError("write", path, e);
  }
}

/** The whole file (procfs and cgroupfs files report size 0, so this reads to EOF). */
export function readText(path: string): string {
  const fd = open(path, O.RDONLY);
  try {
    const chunks: Uint8Array[] = [];
    for (;;) {
      const buf = new Uint8Array(16384);
      const n = readSome(fd, buf, path);
      if (n <= 0) break;
      chunks.push(buf.subarray(0, n));
    }
    return decoder.decode(concat(chunks));
  } finally {
    close(fd);
  }
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, ch) => n + ch.length, 0));
  let off = 0;
  for (const ch of chunks) {
    out.set(ch, off);
    off += ch.length;
  }
  return out;
}

/** readText, or undefined when the file cannot be read (gone, or never there). */
export function readTextIfAny(path: string): string | undefined {
  try {
    return readText(path);
  } catch (err) {
    if (err instanceof SysError) return undefined;
    throw err;
  }
}

export function writeText(path: string, text: string, flags = O.WRONLY | O.CREAT | O.TRUNC, mode = 0o644): void {
  const fd = open(path, flags, mode);
  try {
    writeAll(fd, encoder.encode(text), path);
  } finally {
    close(fd);
  }
}

export const POLLIN = 0x1;

/** poll(2) on one fd: its revents, or 0 when timeoutMs passed first. */
export function pollOne(fd: number, events: number, timeoutMs: number, path: string): number {
  const pfd = new Uint8Array(8);
  const view = new DataView(pfd.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, events, true);
  const n = check("poll", path, () => c().poll(pfd, 1, timeoutMs));
  return n > 0 ? view.getInt16(6, true) : 0;
}

export function flock(fd: number, op: number, path: string): void {
  check("flock", path, () => c().flock(fd, op));
}

export function unlink(path: string): void {
  const p = cstr(path);
  check("unlink", path, () => c().unlink(p));
}

export function rmdir(path: string): void {
  const p = cstr(path);
  check("rmdir", path, () => c().rmdir(p));
}

export function mkdir(path: string, mode: number): void {
  const p = cstr(path);
  check("mkdir", path, () => c().mkdir(p, mode));
}

const EEXIST = 17;
const ENOENT = 2;

/** mkdir -p: the missing directories from the deepest existing one down, each with mode. */
export function mkdirAll(path: string, mode: number): void {
  try {
    mkdir(path, mode);
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    if (err.errno === EEXIST) return;
    const slash = path.replace(/\/+$/, "").lastIndexOf("/");
    if (err.errno !== ENOENT || slash <= 0) throw err;
    mkdirAll(path.slice(0, slash), mode);
    try {
      mkdir(path, mode);
    } catch (again) {
      if (!(again instanceof SysError && again.errno === EEXIST)) throw again;
    }
  }
}

export function rename(from: string, to: string): void {
  const a = cstr(from);
  const b = cstr(to);
  check("rename", to, () => c().rename(a, b));
}

export function exists(path: string): boolean {
  return c().access(cstr(path), 0 /* F_OK */) === 0;
}

export function chmod(path: string, mode: number): void {
  const p = cstr(path);
  check("chmod", path, () => c().chmod(p, mode));
}

export function readlink(path: string): string {
  const buf = new Uint8Array(4096);
  const p = cstr(path);
  const n = check("readlink", path, () => Number(c().readlink(p, buf, buf.length)));
  return decoder.decode(buf.subarray(0, n));
}

/** realpath(3): the absolute path without symlinks, "." or "..". */
export function realpath(path: string): string {
  const buf = new Uint8Array(4096);
  if (!c().realpath(cstr(path), buf)) throw new SysError("realpath", path, errno());
  return decoder.decode(buf.subarray(0, buf.indexOf(0)));
}

export interface Stat {
  /** st_mode: the S_IFMT type bits and the permission bits. */
  mode: number;
  uid: number;
  size: number;
}

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;

// struct stat on x86_64 (the architecture runts is built for): st_mode at 24, st_uid at 28,
// st_size at 48.
function statOf(buf: Uint8Array): Stat {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { mode: view.getUint32(24, true), uid: view.getUint32(28, true), size: Number(view.getBigInt64(48, true)) };
}

/** stat(2): follows symlinks. */
export function stat(path: string): Stat {
  const buf = new Uint8Array(144);
  const p = cstr(path);
  check("stat", path, () => c().stat(p, buf));
  return statOf(buf);
}

export function fstat(fd: number, path = ""): Stat {
  const buf = new Uint8Array(144);
  check("fstat", path, () => c().fstat(fd, buf));
  return statOf(buf);
}

const DT_DIR = 4;

/** Names in a directory (without . and ..), each with whether it is a directory. */
export function listDir(path: string): { name: string; dir: boolean }[] {
  const dirp = c().opendir(cstr(path));
  if (!dirp) throw new SysError("opendir", path, errno());
  const out: { name: string; dir: boolean }[] = [];
  try {
    for (let ent = c().readdir(dirp); ent; ent = c().readdir(dirp)) {
      // struct dirent: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
      const name = new CString(ent, 19).toString();
      if (name !== "." && name !== "..") out.push({ name, dir: peek.u8(ent, 18) === DT_DIR });
    }
  } finally {
    c().closedir(dirp);
  }
  return out;
}

/** rm -r of a directory runts made (its own state directory): no symlinks are followed. */
export function removeTree(path: string): void {
  for (const e of listDir(path)) {
    if (e.dir) removeTree(`${path}/${e.name}`);
    else unlink(`${path}/${e.name}`);
  }
  rmdir(path);
}

const SYS_FCNTL = 72;
const SYS_OPENAT2 = 437;

function fcntl(fd: number, cmd: number, arg: number): number {
  return Number(c().syscall(SYS_FCNTL, fd, cmd, arg, 0));
}

const MFD_ALLOW_SEALING = 2;
const F_ADD_SEALS = 1033;
const F_SEAL_ALL = 1 | 2 | 4 | 8; // SEAL, SHRINK, GROW, WRITE

/** An executable, sealed in-memory copy of `image` (the CVE-2019-5736 defence). */
export function sealedMemfd(name: string, image: Uint8Array): number {
  const n = cstr(name);
  const fd = check("memfd_create", name, () => c().memfd_create(n, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  try {
    writeAll(fd, image, name);
    check("seal memfd", name, () => fcntl(fd, F_ADD_SEALS, F_SEAL_ALL));
  } catch (err) {
    close(fd);
    throw err;
  }
  return fd;
}

const F_GETFD = 1;
const FD_CLOEXEC = 1;

/**
 * "inherited" for an open fd without FD_CLOEXEC, as every fd runts got from its caller is;
 * "own" for one Bun or runts opened (they are all close-on-exec); "closed" otherwise.
 */
export function fdOrigin(fd: number): "inherited" | "own" | "closed" {
  const flags = fcntl(fd, F_GETFD, 0);
  if (flags < 0) return "closed";
  return flags & FD_CLOEXEC ? "own" : "inherited";
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;

export function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  check("socketpair", "", () => c().socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  return [fds[0]!, fds[1]!];
}

export function isatty(fd: number): boolean {
  return c().isatty(fd) === 1;
}

export function mkfifo(path: string, mode: number): void {
  const p = cstr(path);
  check("mkfifo", path, () => c().mkfifo(p, mode));
}

const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_IN_ROOT = 0x10;

/**
 * Opens path inside root for reading, resolving every component inside root (openat2
 * RESOLVE_IN_ROOT); non-blocking, so that a FIFO planted there cannot hang the caller.
 */
export function openInRoot(rootFd: number, path: string): number {
  const how = new Uint8Array(24);
  const view = new DataView(how.buffer);
  view.setBigUint64(0, BigInt(O.RDONLY | O.NONBLOCK | O.CLOEXEC), true);
  view.setBigUint64(16, BigInt(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), true);
  const p = cstr(path);
  return check("openat2", path, () => Number(c().syscall(SYS_OPENAT2, rootFd, ptr(p), ptr(how), 24)));
}

const SYS_BPF = 321;
const SYS_RT_SIGPROCMASK = 14;
const SIG_SETMASK = 2;

/**
 * bpf(2) with attr (a union bpf_attr prefix; the kernel takes a shorter one zero-filled).
 * `pointers` are written into attr at the given offsets as the addresses of those arrays,
 * which the kernel reads (and PROG_QUERY writes) during the call.
 */
export function bpf(cmd: number, attr: Uint8Array, what: string, path: string, pointers: [number, Uint8Array][] = []): number {
  const view = new DataView(attr.buffer, attr.byteOffset, attr.byteLength);
  for (const [off, bytes] of pointers) view.setBigUint64(off, BigInt(ptr(bytes)), true);
  // The verifier gives up with EAGAIN when a signal is pending (a profiler's SIGPROF, a
  // runtime's thread-suspend signal): signals wait while bpf(2) runs, and EAGAIN is tried
  // again, as libbpf does.
  const all = new Uint8Array(8).fill(0xff);
  const saved = new Uint8Array(8);
  c().syscall(SYS_RT_SIGPROCMASK, SIG_SETMASK, ptr(all), ptr(saved), 8);
  try {
    for (let attempt = 1; ; attempt++) {
      const r = Number(c().syscall(SYS_BPF, cmd, ptr(attr), attr.length, 0));
      if (r >= 0) return r;
      const e = errno();
      if ((e !== EAGAIN && e !== EINTR) || attempt === 5) throw new RuntsError(what, path, e);
    }
  } finally {
    c().syscall(SYS_RT_SIGPROCMASK, SIG_SETMASK, ptr(saved), 0, 8);
  }
}

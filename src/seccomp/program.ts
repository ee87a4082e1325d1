// linux.seccomp -> the BPF program runts-init loads, through a cache of compiled filters:
// libseccomp takes 10-40 ms for podman's default profile, and managers send the same
// profile with every container. Loaded only by a create whose config has linux.seccomp.
import { errnoOf, RuntsError, wrapSys } from "../errors.ts";
import { close, fstat, mkdirAll, O, open, readFull, readTextIfAny, rename, writeAll, writeText } from "../libc.ts";
import { type SeccompProgram, seccompLoad, seccompProfile } from "../plan/seccomp.ts";
import type { SeccompSpec } from "../spec/types.ts";

/** Bump when the compiler's output for the same profile changes. */
const CACHE_FORMAT = 2;
/** struct sock_filter: a damaged entry (not whole instructions) is compiled again. */
const SOCK_FILTER_SIZE = 8;

interface CacheEntry {
  bpf: string;
  warnings: string[];
}

/** <root>/.seccomp: not a container id (ids cannot start with a dot), so list skips it. */
export function cacheDir(root: string): string {
  return `${root}/.seccomp`;
}

/**
 * What the compiled program depends on: the profile without the fields that only matter
 * when it is loaded (flags, the agent). A cryptographic hash of it names the cache entry: a
 * config crafted to collide with another profile's entry must not get its filter.
 */
function cacheKey(spec: SeccompSpec): string {
  const { flags, listenerPath, listenerMetadata, ...compiled } = spec;
  const exact = (spec.syscalls ?? []).some((c) => (c.args ?? []).some((a) => typeof a.value === "bigint" || typeof a.valueTwo === "bigint"));
  // A replacer makes JSON.stringify ~30 times slower: only for the bigints load.ts keeps.
  const text = exact ? JSON.stringify(compiled, (_, x) => (typeof x === "bigint" ? `${x}n` : x)) : JSON.stringify(compiled);
  return `${CACHE_FORMAT}\n${text}`;
}

/**
 * The compiled filter for linux.seccomp, and the warnings of its compilation (unknown
 * syscall names). A filter compiled before, for the same rules, is read from the cache.
 */
export async function seccompProgram(spec: SeccompSpec, root: string): Promise<{ program: SeccompProgram; warnings: string[] }> {
  const key = new Bun.CryptoHasher("sha256").update(cacheKey(spec)).digest("hex");
  const file = `${cacheDir(root)}/${key}.json`;
  let compiled = cached(readTextIfAny(file));
  let load: { loadFlags: number; listener?: SeccompProgram["listener"] };
  if (compiled) {
    load = seccompLoad(spec);
  } else {
    const profile = seccompProfile(spec);
    load = profile;
    const { compileSeccomp } = await import("./libseccomp.ts");
    compiled = compileSeccomp(profile);
    store(root, file, { bpf: compiled.bpf.toBase64(), warnings: compiled.warnings });
  }
  return { program: { bpf: compiled.bpf, flags: load.loadFlags, listener: load.listener }, warnings: compiled.warnings };
}

/** A cache entry's program and warnings; undefined for none, or a damaged one (compiled again). */
function cached(text: string | undefined): { bpf: Uint8Array; warnings: string[] } | undefined {
  if (!text) return undefined;
  try {
    const e = JSON.parse(text) as CacheEntry;
    if (typeof e.bpf !== "string" || !Array.isArray(e.warnings)) return undefined;
    // Not node:buffer: its base64 decoding costs a cold process ~0.15 ms more.
    const bpf = Uint8Array.fromBase64(e.bpf);
    return bpf.length && bpf.length % SOCK_FILTER_SIZE === 0 ? { bpf, warnings: e.warnings } : undefined;
  } catch {
    return undefined;
  }
}

/** Written atomically: a concurrent create reads the whole entry or none. */
function store(root: string, file: string, entry: CacheEntry): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirAll(cacheDir(root), 0o700);
    writeText(tmp, JSON.stringify(entry), O.WRONLY | O.CREAT | O.TRUNC, 0o600);
    rename(tmp, file);
  } catch (err) {
    throw new RuntsError("store compiled seccomp filter", file, errnoOf(err));
  }
}

/** Keeps the container's compiled filter at path (<state dir>/seccomp.bpf) for exec. */
export function storeProgram(path: string, program: SeccompProgram): void {
  const fd = wrapSys("store seccomp filter", path, () => open(path, O.WRONLY | O.CREAT | O.EXCL, 0o600));
  try {
    wrapSys("store seccomp filter", path, () => writeAll(fd, program.bpf, path));
  } finally {
    close(fd);
  }
}

/**
 * The container's filter as create loaded it, for a process exec'd into the container:
 * runc gives every exec'd process the container's filter. stored is state.json's seccomp.
 */
export function storedProgram(path: string, stored: { flags: number; listener?: { path: string; metadata: string } }): SeccompProgram {
  const fd = wrapSys("read seccomp filter", path, () => open(path, O.RDONLY));
  try {
    const bpf = readFull(fd, fstat(fd, path).size, path);
    return { bpf, flags: stored.flags, listener: stored.listener };
  } finally {
    close(fd);
  }
}

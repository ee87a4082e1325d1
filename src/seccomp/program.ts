// linux.seccomp -> the BPF program runts-init loads, through a cache of compiled filters:
// libseccomp takes 10-40 ms for podman's default profile, and managers send the same
// profile with every container. Loaded only by a create whose config has linux.seccomp.
import { errnoOf, RuntsError } from "../errors.ts";
import { mkdirAll, O, readTextIfAny, rename, writeText } from "../libc.ts";
import { type SeccompProgram, seccompProfile } from "../plan/seccomp.ts";
import type { SeccompSpec } from "../spec/types.ts";

/** Bump when the compiler's output for the same profile changes. */
const CACHE_FORMAT = 1;

interface CacheEntry {
  bpf: string;
  warnings: string[];
}

/** <root>/.seccomp: not a container id (ids cannot start with a dot), so list skips it. */
export function cacheDir(root: string): string {
  return `${root}/.seccomp`;
}

const json = (v: unknown): string => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x));

/**
 * The compiled filter for linux.seccomp, and the warnings of its compilation (unknown
 * syscall names). A filter compiled before, for the same rules, is read from the cache.
 */
export async function seccompProgram(spec: SeccompSpec, root: string): Promise<{ program: SeccompProgram; warnings: string[] }> {
  const profile = seccompProfile(spec);
  const { listener, loadFlags, ...rules } = profile;
  const key = new Bun.CryptoHasher("sha256").update(json({ CACHE_FORMAT, rules })).digest("hex");
  const file = `${cacheDir(root)}/${key}.json`;
  let entry = parseEntry(readTextIfAny(file));
  if (!entry) {
    const { compileSeccomp } = await import("./libseccomp.ts");
    const compiled = compileSeccomp(profile);
    entry = { bpf: Buffer.from(compiled.bpf).toString("base64"), warnings: compiled.warnings };
    store(root, file, entry);
  }
  return { program: { bpf: new Uint8Array(Buffer.from(entry.bpf, "base64")), flags: loadFlags, listener }, warnings: entry.warnings };
}

function parseEntry(text: string | undefined): CacheEntry | undefined {
  if (!text) return undefined;
  try {
    const e = JSON.parse(text) as CacheEntry;
    return typeof e.bpf === "string" && Array.isArray(e.warnings) ? e : undefined;
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

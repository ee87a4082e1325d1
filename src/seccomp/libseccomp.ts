// Compiles a seccomp profile (src/plan/seccomp.ts) to a BPF program with libseccomp, the
// compiler runc uses, through koffi. Loaded only by a create whose config has linux.seccomp.
import { close, concat } from "../libc.ts";
import { enosysStub } from "./enosys.ts";
import { ConfigError, RuntsError, strerror } from "../errors.ts";
import type { SeccompProfile } from "../plan/seccomp.ts";
import { loadLibrary, readBack, scratchFile } from "../sys.ts";

type Ctx = unknown;

interface Libseccomp {
  init(defaultAction: number): Ctx;
  release(ctx: Ctx): void;
  archResolve(name: string): number;
  archAdd(ctx: Ctx, token: number): number;
  attrSet(ctx: Ctx, attr: number, value: number): number;
  syscallResolve(name: string): number;
  syscallResolveArch(token: number, name: string): number;
  ruleAddArray(ctx: Ctx, action: number, nr: number, count: number, conds: Uint8Array): number;
  exportBpf(ctx: Ctx, fd: number): number;
}

let lib: Libseccomp | undefined;

function libseccomp(): Libseccomp {
  if (lib) return lib;
  const so = loadLibrary("libseccomp.so.2");
  if (!so) throw new ConfigError("linux.seccomp: needs libseccomp (libseccomp.so.2, Debian package libseccomp2), which is not installed");
  lib = {
    init: so.func("void *seccomp_init(uint32_t def_action)"),
    release: so.func("void seccomp_release(void *ctx)"),
    archResolve: so.func("uint32_t seccomp_arch_resolve_name(const char *name)"),
    archAdd: so.func("int seccomp_arch_add(void *ctx, uint32_t token)"),
    attrSet: so.func("int seccomp_attr_set(void *ctx, int attr, uint32_t value)"),
    syscallResolve: so.func("int seccomp_syscall_resolve_name(const char *name)"),
    syscallResolveArch: so.func("int seccomp_syscall_resolve_name_arch(uint32_t token, const char *name)"),
    ruleAddArray: so.func("int seccomp_rule_add_array(void *ctx, uint32_t action, int nr, unsigned int count, const uint8_t *conds)"),
    exportBpf: so.func("int seccomp_export_bpf(void *ctx, int fd)"),
  } as Libseccomp;
  return lib;
}

const SCMP_FLTATR_CTL_OPTIMIZE = 8;
const NR_SCMP_ERROR = -1;
const EEXIST = 17;
const SCMP_ARG_CMP_SIZE = 24;
const BPF_INSN_SIZE = 8;
const MAX_BPF_INSNS = 4096;

/** struct scmp_arg_cmp[]: u32 arg, u32 op, u64 datum_a, u64 datum_b. */
function conditionArray(conds: SeccompProfile["rules"][number]["conditionSets"][number]): Uint8Array {
  const buf = new Uint8Array(Math.max(1, conds.length) * SCMP_ARG_CMP_SIZE);
  const v = new DataView(buf.buffer);
  conds.forEach((c, i) => {
    v.setUint32(i * SCMP_ARG_CMP_SIZE, c.arg, true);
    v.setUint32(i * SCMP_ARG_CMP_SIZE + 4, c.op, true);
    v.setBigUint64(i * SCMP_ARG_CMP_SIZE + 8, c.datumA, true);
    v.setBigUint64(i * SCMP_ARG_CMP_SIZE + 16, c.datumB, true);
  });
  return buf;
}

function libError(field: string, what: string, r: number): ConfigError {
  return new ConfigError(`${field}: libseccomp: ${what}: ${strerror(-r)}`);
}

export interface Compiled {
  bpf: Uint8Array;
  /** Syscall names libseccomp does not know: skipped, as runc does. */
  warnings: string[];
}

/** The profile as a classic BPF program (struct sock_filter[]) for seccomp(2). */
export function compileSeccomp(p: SeccompProfile): Compiled {
  const s = libseccomp();
  const ctx = s.init(p.defaultAction);
  if (!ctx) throw new ConfigError("linux.seccomp.defaultAction: libseccomp refused the action");
  const warnings: string[] = [];
  /** The largest syscall number the profile names, per architecture (for the -ENOSYS stub). */
  const largest = new Map<string, number>();
  try {
    for (const a of p.architectures) {
      const token = s.archResolve(a.name);
      if (!token) throw new ConfigError(`${a.field}: architecture ${a.name} is not supported by this host's libseccomp`);
      const r = s.archAdd(ctx, token);
      if (r < 0 && r !== -EEXIST) throw libError(a.field, `adding architecture ${a.name}`, r);
      if (!p.enosysStub || largest.has(a.name)) continue;
      const max = Math.max(0, ...p.names.map((n) => s.syscallResolveArch(token, n)));
      if (max > 0) largest.set(a.name, max);
      else warnings.push(`${a.field}: the profile names no syscall of ${a.name}`);
    }
    if (p.optimize && s.attrSet(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0) warnings.push("linux.seccomp: libseccomp has no binary-tree optimization; the filter is a linear list");
    for (const rule of p.rules) {
      const nr = s.syscallResolve(rule.name);
      if (nr === NR_SCMP_ERROR) {
        warnings.push(`${rule.field}: unknown syscall ${JSON.stringify(rule.name)}, skipped (as runc does)`);
        continue;
      }
      for (const conds of rule.conditionSets) {
        const r = s.ruleAddArray(ctx, rule.action, nr, conds.length, conditionArray(conds));
        if (r < 0) throw libError(rule.field, `adding the rule for ${rule.name}`, r);
      }
    }
    const fd = scratchFile("runts-seccomp");
    try {
      const r = s.exportBpf(ctx, fd);
      if (r < 0) throw libError("linux.seccomp", "exporting the filter", r);
      const filter = readBack(fd, MAX_BPF_INSNS * BPF_INSN_SIZE + 1, "seccomp filter");
      const bpf = largest.size ? concat([enosysStub(largest), filter]) : filter;
      if (bpf.length > MAX_BPF_INSNS * BPF_INSN_SIZE) {
        throw new RuntsError("compile linux.seccomp", "", 0, `the filter has more than ${MAX_BPF_INSNS} instructions, the kernel's limit`);
      }
      return { bpf, warnings };
    } finally {
      close(fd);
    }
  } finally {
    s.release(ctx);
  }
}

// runc's -ENOSYS stub (libcontainer/seccomp/patchbpf): a BPF prefix that makes a syscall
// newer than every syscall the profile names, on that architecture, fail with ENOSYS instead
// of the default action. A profile written before a syscall existed cannot allow it; ENOSYS
// (not EPERM) is what makes libc fall back to the older call (clone3 -> clone, ...). Pure.

/** AUDIT_ARCH_* of libseccomp's architectures that can share a filter with x86_64 (little-endian). */
const AUDIT_ARCH: Record<string, number> = {
  x86_64: 0xc000_003e,
  x32: 0xc000_003e,
  x86: 0x4000_0003,
  arm: 0x4000_0028,
  aarch64: 0xc000_00b7,
  mipsel: 0x4000_0008,
  mipsel64: 0xc000_0008,
  mipsel64n32: 0xe000_0008,
  ppc64le: 0xc000_0015,
  riscv64: 0xc000_00f3,
};

/** x32 syscalls are x86_64's AUDIT_ARCH with this bit set in the number. */
const X32_SYSCALL_BIT = 0x4000_0000;
const RET_ENOSYS = 0x0005_0000 | 38;

/** Whether runc prefixes the stub: not for a permissive default action, nor when the default already returns ENOSYS. */
export function wantsEnosysStub(defaultAction: string, defaultErrnoRet: number | undefined): boolean {
  if (defaultErrnoRet === 38) return false;
  return !["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"].includes(defaultAction);
}

type Label = string;
interface Insn {
  code: number;
  k: number;
  jt?: Label;
  jf?: Label;
  /** ja's target */
  to?: Label;
  label?: Label;
}

const LD_W_ABS = 0x20;
const JEQ = 0x15;
const JGT = 0x25;
const JSET = 0x45;
const JA = 0x05;
const RET = 0x06;

/**
 * The stub for the largest syscall number the profile names per architecture (libseccomp's
 * names: "x86_64", "x32", ...); it falls through to the filter that follows it.
 */
export function enosysStub(largest: Map<string, number>): Uint8Array {
  const byAudit = new Map<number, Map<string, number>>();
  for (const [arch, max] of largest) {
    const audit = AUDIT_ARCH[arch];
    if (audit === undefined) throw new Error(`enosysStub: no AUDIT_ARCH for ${arch}`);
    if (!byAudit.has(audit)) byAudit.set(audit, new Map());
    byAudit.get(audit)!.set(arch, max);
  }
  const prog: Insn[] = [{ code: LD_W_ABS, k: 4 }];
  for (const audit of byAudit.keys()) prog.push({ code: JEQ, k: audit, jt: `arch${audit}` });
  prog.push({ code: JA, k: 0, to: "filter" });
  for (const [audit, modes] of byAudit) {
    prog.push({ code: LD_W_ABS, k: 0, label: `arch${audit}` });
    const native = [...modes].find(([a]) => a !== "x32")?.[1];
    const x32 = modes.get("x32");
    if (audit === AUDIT_ARCH.x86_64) {
      // Both modes share the arch: bit 30 of the number says which one this is.
      prog.push({ code: JSET, k: X32_SYSCALL_BIT, jt: x32 === undefined ? "filter" : `x32_${audit}`, jf: native === undefined ? "filter" : undefined });
    }
    if (native !== undefined) prog.push({ code: JGT, k: native, jt: "enosys" }, { code: JA, k: 0, to: "filter" });
    if (x32 !== undefined) prog.push({ code: JGT, k: x32, jt: "enosys", label: `x32_${audit}` }, { code: JA, k: 0, to: "filter" });
  }
  prog.push({ code: RET, k: RET_ENOSYS, label: "enosys" });
  return assemble(prog, prog.length);
}

/** Resolves labels ("filter" is the first instruction after the stub) into sock_filter bytes. */
function assemble(prog: Insn[], filterAt: number): Uint8Array {
  const at = new Map<Label, number>([["filter", filterAt]]);
  prog.forEach((insn, i) => insn.label && at.set(insn.label, i));
  const out = new Uint8Array(prog.length * 8);
  const v = new DataView(out.buffer);
  prog.forEach((insn, i) => {
    const rel = (l: Label | undefined): number => {
      if (l === undefined) return 0;
      const d = at.get(l)! - i - 1;
      if (d < 0 || d > 255) throw new Error(`enosysStub: jump to ${l} out of range`);
      return d;
    };
    v.setUint16(i * 8, insn.code, true);
    v.setUint8(i * 8 + 2, rel(insn.jt));
    v.setUint8(i * 8 + 3, rel(insn.jf));
    v.setUint32(i * 8 + 4, insn.to !== undefined ? at.get(insn.to)! - i - 1 : insn.k, true);
  });
  return out;
}

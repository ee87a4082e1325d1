// The device rules as a BPF_PROG_TYPE_CGROUP_DEVICE program (cgroup v2 has no devices
// files): pure, instruction bytes out. The kernel passes struct bpf_cgroup_dev_ctx
// { u32 access_type (access << 16 | type); u32 major; u32 minor; }; the program returns 1
// to allow, 0 to deny (EPERM). Rules are tried last to first, the first match decides, as
// the later rule wins in the v1 controller; nothing matching is denied.
import type { DeviceRule } from "./device-rules.ts";

const DEV_TYPE = { b: 1, c: 2 } as const; // BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR
const ACC = { m: 1, r: 2, w: 4 } as const; // BPF_DEVCG_ACC_MKNOD, _READ, _WRITE

/** One eBPF instruction: opcode, dst and src registers, offset, immediate. */
interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const LDX_W = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const AND32_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
const RSH32_K = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const MOV32_X = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
const MOV64_K = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
const JNE_K = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const JNE_X = 0x5d; // BPF_JMP | BPF_JNE | BPF_X
const EXIT = 0x95; // BPF_JMP | BPF_EXIT

const insn = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });

/** r2 = type, r3 = access, r4 = major, r5 = minor. */
const PROLOGUE: Insn[] = [
  insn(LDX_W, 2, 1, 0),
  insn(AND32_K, 2, 0, 0, 0xffff),
  insn(LDX_W, 3, 1, 0),
  insn(RSH32_K, 3, 0, 0, 16),
  insn(LDX_W, 4, 1, 4),
  insn(LDX_W, 5, 1, 8),
];

const matchesAll = (r: DeviceRule): boolean => r.type === "a" && r.access === "rwm";

/** The checks of one rule, each jumping past the block when it does not hold, then the verdict. */
function ruleBlock(r: DeviceRule): Insn[] {
  const checks: Insn[][] = [];
  if (r.type !== "a") checks.push([insn(JNE_K, 2, 0, 0, DEV_TYPE[r.type])]);
  if (r.access !== "rwm") {
    const mask = [...r.access].reduce((m, c) => m | ACC[c as keyof typeof ACC], 0);
    // The requested access must be within the rule's: (access & mask) == access.
    checks.push([insn(MOV32_X, 1, 3), insn(AND32_K, 1, 0, 0, mask), insn(JNE_X, 1, 3)]);
  }
  if (r.type !== "a" && r.major >= 0) checks.push([insn(JNE_K, 4, 0, 0, r.major)]);
  if (r.type !== "a" && r.minor >= 0) checks.push([insn(JNE_K, 5, 0, 0, r.minor)]);
  const verdict = [insn(MOV64_K, 0, 0, 0, r.allow ? 1 : 0), insn(EXIT)];
  const flat = [...checks.flat(), ...verdict];
  // Every jump skips to the end of the block.
  flat.forEach((x, i) => {
    if (x.code === JNE_K || x.code === JNE_X) x.off = flat.length - i - 1;
  });
  return flat;
}

export function deviceProgramInsns(rules: DeviceRule[]): Insn[] {
  const out = [...PROLOGUE];
  let covered = false;
  for (let i = rules.length - 1; i >= 0 && !covered; i--) {
    out.push(...ruleBlock(rules[i]!));
    covered = matchesAll(rules[i]!); // rules before one that matches everything never decide
  }
  if (!covered) out.push(insn(MOV64_K, 0, 0, 0, 0), insn(EXIT));
  return out;
}

/** The program as the kernel takes it: 8 bytes per instruction (struct bpf_insn). */
export function deviceProgram(rules: DeviceRule[]): Uint8Array {
  const insns = deviceProgramInsns(rules);
  const out = new Uint8Array(insns.length * 8);
  const view = new DataView(out.buffer);
  insns.forEach((x, i) => {
    view.setUint8(i * 8, x.code);
    view.setUint8(i * 8 + 1, (x.src << 4) | x.dst);
    view.setInt16(i * 8 + 2, x.off, true);
    view.setInt32(i * 8 + 4, x.imm, true);
  });
  return out;
}

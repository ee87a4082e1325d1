import { describe, expect, test } from "bun:test";
import { deviceProgram } from "../../src/cgroups/device-bpf";
import { DEFAULT_ALLOWED, type DeviceRule, deviceRules, v1DeviceWrites } from "../../src/cgroups/device-rules";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Runs a device program on (type, access, major, minor): just the opcodes a device program uses. */
function runProgram(prog: Uint8Array, type: number, access: number, major: number, minor: number): number {
  const v = new DataView(prog.buffer);
  const ctx = [(access << 16) | type, major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0; pc < prog.length / 8; pc++) {
    const code = v.getUint8(pc * 8);
    const dst = v.getUint8(pc * 8 + 1) & 15;
    const src = v.getUint8(pc * 8 + 1) >> 4;
    const off = v.getInt16(pc * 8 + 2, true);
    const imm = v.getInt32(pc * 8 + 4, true);
    switch (code) {
      case 0x61: r[dst] = ctx[off / 4]! >>> 0; break;
      case 0x54: r[dst] = (r[dst]! & imm) >>> 0; break;
      case 0x74: r[dst] = r[dst]! >>> imm; break;
      case 0xbc: r[dst] = r[src]!; break;
      case 0xb7: r[dst] = imm; break;
      case 0x55: if (r[dst] !== imm) pc += off; break;
      case 0x5d: if (r[dst] !== r[src]) pc += off; break;
      case 0x95: return r[0]!;
      default: throw new Error(`opcode ${code.toString(16)}`);
    }
  }
  throw new Error("fell off the end");
}

/** The reference: the last rule that matches decides; nothing matching is denied. */
function reference(rules: DeviceRule[], type: "b" | "c", access: string, major: number, minor: number): number {
  let verdict = 0;
  for (const r of rules) {
    const matches =
      (r.type === "a" || r.type === type) &&
      [...access].every((a) => r.access.includes(a)) &&
      (r.type === "a" || r.major < 0 || r.major === major) &&
      (r.type === "a" || r.minor < 0 || r.minor === minor);
    if (matches) verdict = r.allow ? 1 : 0;
  }
  return verdict;
}

describe("device rules", () => {
  test("deny all, the config's rules, then runc's default list", () => {
    const rules = deviceRules([{ allow: true, type: "b", major: 7, minor: 3, access: "wr" }]);
    expect(rules[0]).toEqual({ allow: false, type: "a", major: -1, minor: -1, access: "rwm" });
    expect(rules[1]).toEqual({ allow: true, type: "b", major: 7, minor: 3, access: "rw" });
    expect(rules.slice(2)).toEqual([...DEFAULT_ALLOWED]);
  });
  test("v1 lines", () => {
    expect(v1DeviceWrites(deviceRules([{ allow: true, type: "c", major: 4, access: "r" }])).slice(0, 4)).toEqual([
      { file: "devices.deny", value: "a *:* rwm" },
      { file: "devices.allow", value: "c 4:* r" },
      { file: "devices.allow", value: "c *:* m" },
      { file: "devices.allow", value: "b *:* m" },
    ]);
  });
  test("bad rules are refused naming the field", () => {
    expect(() => deviceRules([{ allow: true, type: "p" }])).toThrow("linux.resources.devices[0].type");
    expect(() => deviceRules([{ allow: true, type: "c", major: -5 }])).toThrow("linux.resources.devices[0].major");
    expect(() => deviceRules([{ allow: true, access: "" }])).toThrow("linux.resources.devices[0].access: empty");
  });
});

describe("device BPF program", () => {
  test("the instructions of a one-rule program, byte for byte", () => {
    const prog = deviceProgram([{ allow: true, type: "c", major: 1, minor: 3, access: "r" }]);
    expect(hex(prog).match(/.{16}/g)).toEqual([
      "6112000000000000", // r2 = ctx->access_type
      "54020000ffff0000", // r2 &= 0xffff (type)
      "6113000000000000", // r3 = ctx->access_type
      "7403000010000000", // r3 >>= 16 (access)
      "6114040000000000", // r4 = ctx->major
      "6115080000000000", // r5 = ctx->minor
      "5502070002000000", // if r2 != char goto +7
      "bc31000000000000", // r1 = r3
      "5401000002000000", // r1 &= read
      "5d31040000000000", // if r1 != r3 goto +4
      "5504030001000000", // if r4 != 1 goto +3
      "5505020003000000", // if r5 != 3 goto +2
      "b700000001000000", // r0 = 1
      "9500000000000000", // exit
      "b700000000000000", // r0 = 0 (nothing matched)
      "9500000000000000", // exit
    ]);
  });
  test("a rule matching everything ends the program: earlier rules cannot decide", () => {
    const prog = deviceProgram(deviceRules([{ allow: true, type: "b", major: 8, minor: 0 }]));
    const v = new DataView(prog.buffer);
    expect(v.getUint8(prog.length - 8)).toBe(0x95);
    expect(v.getInt32(prog.length - 12, true)).toBe(0); // the deny-all rule's verdict
  });
  test("verdicts agree with last-match-wins for the default list and config rules, every access", () => {
    const rules = deviceRules([
      { allow: true, type: "b", major: 7, minor: 2, access: "r" },
      { allow: true, type: "c", major: 4, access: "rw" },
      { allow: false, type: "c", major: 4, minor: 1, access: "w" },
      { allow: true, type: "b", access: "rwm" },
      { allow: false, type: "b", major: 8, access: "rwm" },
    ]);
    const prog = deviceProgram(rules);
    const ACC: Record<string, number> = { m: 1, r: 2, w: 4 };
    let checked = 0;
    for (const type of ["b", "c"] as const) {
      for (const [major, minor] of [[1, 3], [1, 4], [4, 1], [4, 9], [5, 2], [7, 2], [7, 3], [8, 0], [10, 200], [136, 5], [250, 0]] as const) {
        for (const access of ["m", "r", "w", "rw", "rm", "rwm"]) {
          const mask = [...access].reduce((m, a) => m | ACC[a]!, 0);
          expect([type, major, minor, access, runProgram(prog, type === "b" ? 1 : 2, mask, major, minor)]).toEqual([type, major, minor, access, reference(rules, type, access, major, minor)]);
          checked++;
        }
      }
    }
    expect(checked).toBe(132);
    expect(runProgram(prog, 1, 2, 7, 0)).toBe(1); // b 7:0 r: allowed by "b *:* rwm"
    expect(runProgram(prog, 1, 2, 8, 1)).toBe(0); // b 8:1: the later deny
    expect(runProgram(prog, 2, 2, 1, 3)).toBe(1); // /dev/null
  });
});

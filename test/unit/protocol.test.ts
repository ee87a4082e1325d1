import { describe, expect, test } from "bun:test";
import { decodePayload, encodeFrame, encodePayload, encodePlan, fieldInt, fieldString, Msg, Op } from "../../src/helper/protocol.ts";
import { readFileSync } from "node:fs";

describe("helper protocol", () => {
  test("frames round-trip strings, integers and bytes", () => {
    const frame = encodeFrame(Msg.ERROR, ["mount", "/proc", 2, new Uint8Array([1, 2, 3])]);
    const len = new DataView(frame.buffer).getUint32(0, true);
    expect(len).toBe(frame.length - 4);
    const m = decodePayload(frame.subarray(4));
    expect(m.type).toBe(Msg.ERROR);
    expect(fieldString(m, 0)).toBe("mount");
    expect(fieldString(m, 1)).toBe("/proc");
    expect(fieldInt(m, 2)).toBe(2);
    expect([...m.fields[3]!]).toEqual([1, 2, 3]);
  });

  test("bigints up to 64 bits are encoded little endian", () => {
    const p = encodePayload(1, [0xffff_ffff_ffff_ffffn]);
    expect([...p.subarray(12)]).toEqual([255, 255, 255, 255, 255, 255, 255, 255]);
  });

  test("a plan is a frame of op payloads", () => {
    const plan = encodePlan([{ op: "HOSTNAME", args: ["box"] }]);
    const outer = decodePayload(plan.subarray(4));
    expect(outer.type).toBe(Msg.PLAN);
    const op = decodePayload(outer.fields[0]!);
    expect(op.type).toBe(Op.HOSTNAME);
    expect(fieldString(op, 0)).toBe("box");
  });

  test("malformed helper messages are rejected, not trusted", () => {
    expect(() => decodePayload(new Uint8Array(4))).toThrow(/too short/);
    const p = encodePayload(Msg.PID, [5]);
    new DataView(p.buffer).setUint32(8, 1000, true); // field length beyond the frame
    expect(() => decodePayload(p)).toThrow(/overruns/);
    const q = encodePayload(Msg.PID, [5]);
    new DataView(q.buffer).setUint32(4, 1 << 30, true); // absurd field count
    expect(() => decodePayload(q)).toThrow(/field count/);
    expect(() => decodePayload(new Uint8Array([...encodePayload(Msg.READY, []), 0]))).toThrow(/trailing/);
    expect(() => fieldInt(decodePayload(encodePayload(Msg.PID, ["x"])), 0)).toThrow(/not an integer/);
  });

  test("op numbers agree with native/protocol.h", () => {
    const header = readFileSync(new URL("../../native/protocol.h", import.meta.url), "utf8");
    for (const [name, num] of Object.entries(Op)) {
      expect(header).toMatch(new RegExp(`OP_${name} = ${num},`));
    }
    for (const [name, num] of Object.entries(Msg)) {
      expect(header).toMatch(new RegExp(`MSG_${name} = ${num},`));
    }
  });
});

/**
 * runts-init's frame parser, fed malformed plans over its control socket: each must be
 * refused with an ERROR message (op, path, errno, detail) and exit status 1, never a crash,
 * and before anything is created (no privileges are needed to get that far).
 */
import { describe, expect, test } from "bun:test";
import { encodeFrame, encodePayload, encodePlan, MAX_FRAME, Msg, Op, type PlanOp } from "../../src/helper/protocol.ts";
import { errorFields, runHelper } from "../lib/helper";

const EPROTO = 71;
const MAX_ARGS = 65536;

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};

const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};

/** A frame around a raw payload, its length taken as is. */
const frame = (payload: Uint8Array): Uint8Array => cat(u32(payload.length), payload);

/** A well-formed CLONE op (never reached: every plan below is refused first). */
const clone: PlanOp = { op: "CLONE", args: [0, "", "/nonexistent/state", "/nonexistent/rootfs", 0, new Uint8Array(0)] };

const planOf = (...payloads: Uint8Array[]): Uint8Array => encodeFrame(Msg.PLAN, payloads);

const cases: [string, Uint8Array, [string, string, number, string]][] = [
  ["a truncated length (2 of its 4 bytes)", new Uint8Array([12, 0]), ["plan", "", EPROTO, "malformed plan frame"]],
  ["a frame shorter than its length", cat(u32(100), new Uint8Array(10)), ["plan", "", EPROTO, "malformed plan frame"]],
  ["a length beyond MAX_FRAME", cat(u32(MAX_FRAME + 1), u32(Msg.PLAN), u32(0)), ["plan", "", EPROTO, "malformed plan frame"]],
  ["a frame too short for its header", frame(u32(Msg.PLAN)), ["plan", "", EPROTO, "malformed plan frame"]],
  [
    "argc beyond MAX_ARGS",
    frame(cat(u32(Msg.PLAN), u32(MAX_ARGS + 1), new Uint8Array(4 * (MAX_ARGS + 1)))),
    ["plan", "", EPROTO, "malformed plan frame"],
  ],
  ["argc beyond what the frame can hold", frame(cat(u32(Msg.PLAN), u32(0xffffffff))), ["plan", "", EPROTO, "malformed plan frame"]],
  ["an arg length past the frame end", frame(cat(u32(Msg.PLAN), u32(1), u32(1000), new Uint8Array(10))), ["plan", "", EPROTO, "malformed plan frame"]],
  ["bytes after the last arg", frame(cat(u32(Msg.PLAN), u32(1), u32(2), new Uint8Array(3))), ["plan", "", EPROTO, "malformed plan frame"]],
  ["an arg length that wraps around", frame(cat(u32(Msg.PLAN), u32(1), u32(0xfffffffc), new Uint8Array(8))), ["plan", "", EPROTO, "malformed plan frame"]],
  ["a frame that is not a plan", encodeFrame(Msg.CONTINUE, []), ["plan", "", EPROTO, "malformed plan frame"]],
  ["an op shorter than its header", planOf(new Uint8Array(5)), ["plan", "", EPROTO, "malformed op"]],
  ["an op whose arg overruns the op", planOf(cat(u32(Op.CLONE), u32(1), u32(9), new Uint8Array(8))), ["plan", "", EPROTO, "malformed op"]],
  ["an empty plan", planOf(), ["plan", "", EPROTO, "plan does not start with clone or join"]],
  ["a plan that does not start with CLONE", encodePlan([{ op: "READY", args: [] }, clone]), ["plan", "", EPROTO, "plan does not start with clone or join"]],
  ["an unknown op", planOf(encodePayload(Op.CLONE, clone.args), encodePayload(999, [])), ["plan", "", EPROTO, "unknown op"]],
  ["op 0", planOf(encodePayload(Op.CLONE, clone.args), encodePayload(0, [])), ["plan", "", EPROTO, "unknown op"]],
  ["a second CLONE (not an op the init runs)", encodePlan([clone, clone]), ["plan", "", EPROTO, "unknown op"]],
  ["CLONE without its arguments", encodePlan([{ op: "CLONE", args: [0] }]), ["clone", "", 0, "malformed plan: missing argument"]],
  ["a string with a NUL inside", encodePlan([{ op: "CLONE", args: [0, "/sys/fs/cgroup\0/x", "/s", "/r", 0, new Uint8Array(0)] }]), ["clone", "", 0, "malformed plan: NUL in string"]],
  ["an integer that is not 8 bytes", encodePlan([{ op: "CLONE", args: [new Uint8Array(4), "", "/s", "/r", 0, new Uint8Array(0)] }]), ["clone", "", 0, "malformed plan: bad integer"]],
  ["a JOIN after the CLONE (not an op the init runs)", encodePlan([clone, { op: "JOIN", args: [] }]), ["plan", "", EPROTO, "unknown op"]],
  ["JOIN without its arguments", encodePlan([{ op: "JOIN", args: [0, ""] }]), ["join", "", EPROTO, "malformed join op"]],
  ["a namespace type without its path", encodePlan([{ op: "CLONE", args: [...clone.args, 0x00020000] }]), ["clone", "", EPROTO, "malformed clone op"]],
];

describe("runts-init frame parser", () => {
  for (const [name, input, expected] of cases) {
    test(`refuses ${name} with an error, without crashing`, async () => {
      const r = await runHelper(input);
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
      expect(r.messages.map((m) => m.type)).toEqual([Msg.ERROR]);
      expect(errorFields(r.messages[0]!)).toEqual(expected);
    });
  }
});

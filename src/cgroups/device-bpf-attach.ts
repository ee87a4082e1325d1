// Loads the device program and attaches it to a v2 cgroup (create and update only).
// An earlier program runts attached is detached after the new one is in place, so the
// cgroup is never without one.
import { RuntsError } from "../errors.ts";
import { bpf, close, O, open } from "../libc.ts";
import { deviceProgram } from "./device-bpf.ts";
import type { DeviceRule } from "./device-rules.ts";

const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_PROG_QUERY = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
const BPF_F_ALLOW_MULTI = 2;

const u32 = (attr: Uint8Array, off: number, v: number) => new DataView(attr.buffer).setUint32(off, v, true);

function loadProgram(rules: DeviceRule[], dir: string): number {
  const insns = deviceProgram(rules);
  const attr = new Uint8Array(72);
  u32(attr, 0, BPF_PROG_TYPE_CGROUP_DEVICE);
  u32(attr, 4, insns.length / 8);
  attr.set(new TextEncoder().encode("runts_devices"), 48);
  return bpf(BPF_PROG_LOAD, attr, "load the device BPF program", dir, [
    [8, insns],
    [16, new TextEncoder().encode("GPL\0")],
  ]);
}

/** Ids of the device programs attached to the cgroup itself. */
function attachedIds(cgfd: number, dir: string): number[] {
  const ids = new Uint8Array(4 * 64);
  const attr = new Uint8Array(40);
  u32(attr, 0, cgfd);
  u32(attr, 4, BPF_CGROUP_DEVICE);
  u32(attr, 24, 64);
  bpf(BPF_PROG_QUERY, attr, "query device BPF programs", dir, [[16, ids]]);
  const n = new DataView(attr.buffer).getUint32(24, true);
  return Array.from({ length: n }, (_, i) => new DataView(ids.buffer).getUint32(i * 4, true));
}

/** Attaches a program for rules to the cgroup dir, replacing the ones attached before. */
export function attachDeviceProgram(dir: string, rules: DeviceRule[]): void {
  const cgfd = open(dir, O.RDONLY | O.DIRECTORY);
  let prog = -1;
  try {
    const before = attachedIds(cgfd, dir);
    prog = loadProgram(rules, dir);
    const attr = new Uint8Array(20);
    u32(attr, 0, cgfd);
    u32(attr, 4, prog);
    u32(attr, 8, BPF_CGROUP_DEVICE);
    u32(attr, 12, BPF_F_ALLOW_MULTI);
    bpf(BPF_PROG_ATTACH, attr, "attach the device BPF program", dir);
    for (const id of before) {
      const get = new Uint8Array(12);
      u32(get, 0, id);
      const old = bpf(BPF_PROG_GET_FD_BY_ID, get, "replace the device BPF program", dir);
      try {
        const det = new Uint8Array(20);
        u32(det, 0, cgfd);
        u32(det, 4, old);
        u32(det, 8, BPF_CGROUP_DEVICE);
        bpf(BPF_PROG_DETACH, det, "detach the earlier device BPF program", dir);
      } finally {
        close(old);
      }
    }
  } catch (err) {
    if (err instanceof RuntsError) throw new RuntsError(err.op, err.path, err.errno, err.detail, "linux.resources.devices");
    throw err;
  } finally {
    if (prog >= 0) close(prog);
    close(cgfd);
  }
}

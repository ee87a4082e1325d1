import { describe, expect, test } from "bun:test";
import { checkId, checkIdMappings, isValidId, MAX_ID } from "../../src/plan/ids.ts";

describe("ids (src/plan/ids.ts)", () => {
  test("0..2^31-1 are ids; -1, 2^31, 2^32-1 ((uid_t)-1: 'unchanged' to setresuid), fractions and non-numbers are not", () => {
    for (const v of [0, 1, 1000, 65534, MAX_ID]) expect({ v, ok: isValidId(v) }).toEqual({ v, ok: true });
    for (const v of [-1, MAX_ID + 1, 4294967295, 1.5, Number.NaN, "0", null, undefined]) expect({ v, ok: isValidId(v) }).toEqual({ v, ok: false });
  });

  test("checkId names the field and the range", () => {
    expect(checkId(7, "process.user.uid")).toBe(7);
    expect(() => checkId(4294967295, "process.user.uid")).toThrow("config.json: process.user.uid: 4294967295 is not a valid id (0..2147483647)");
  });

  test("mappings: each field in range, size at least 1, neither range past 2^31-1", () => {
    expect(() => checkIdMappings(undefined, "linux.uidMappings")).not.toThrow();
    expect(() => checkIdMappings([{ containerID: 0, hostID: 100000, size: 65536 }], "linux.uidMappings")).not.toThrow();
    expect(() => checkIdMappings([{ containerID: 0, hostID: 0, size: MAX_ID + 1 }], "linux.uidMappings")).not.toThrow();
    const bad: [object, string][] = [
      [{ containerID: -1, hostID: 0, size: 1 }, "linux.gidMappings[1].containerID"],
      [{ containerID: 0, hostID: 4294967295, size: 1 }, "linux.gidMappings[1].hostID"],
      [{ containerID: 0, hostID: 0, size: 0 }, "linux.gidMappings[1].size: 0 is not a valid mapping size"],
      [{ containerID: 0, hostID: 0, size: 4294967296 }, "linux.gidMappings[1].size"],
      [{ containerID: 0, hostID: MAX_ID, size: 2 }, "linux.gidMappings[1].size: hostID 2147483647 + size 2 runs past"],
      [{ containerID: MAX_ID - 5, hostID: 0, size: 10 }, "linux.gidMappings[1].size: containerID"],
    ];
    for (const [m, msg] of bad) {
      expect(() => checkIdMappings([{ containerID: 0, hostID: 0, size: 1 }, m as never], "linux.gidMappings")).toThrow(msg);
    }
  });
});

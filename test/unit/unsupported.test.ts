import { describe, expect, test } from "bun:test";
import { refuseUnsupported, UNSUPPORTED } from "../../src/plan/unsupported.ts";
import { defaultSpec } from "../../src/spec/defaultSpec.ts";
import type { Spec } from "../../src/spec/types.ts";

const noHost = { exists: () => false };
const allHost = { exists: () => true };

function withField(field: string, value: unknown): Spec {
  const spec = defaultSpec() as unknown as Record<string, unknown>;
  const keys = field.split(".");
  let at = spec;
  for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
  at[keys.at(-1)!] = value;
  return spec as unknown as Spec;
}

describe("refuseUnsupported (src/plan/unsupported.ts)", () => {
  test("runts spec's config (resources with devices only) passes", () => {
    expect(() => refuseUnsupported(defaultSpec() as unknown as Spec, noHost)).not.toThrow();
    expect(() => refuseUnsupported(defaultSpec({ rootless: true }) as unknown as Spec, noHost)).not.toThrow();
  });

  test("every row refuses its field when it asks for something, naming it", () => {
    for (const u of UNSUPPORTED) {
      expect(() => refuseUnsupported(withField(u.field, { x: 1 }), noHost)).toThrow(`config.json: ${u.field}: `);
      expect(() => refuseUnsupported(withField(u.field, "label"), allHost)).toThrow(`config.json: ${u.field}: `);
    }
  });

  test("empty values ask for nothing: {}, [], \"\", null, false and objects of only those", () => {
    for (const v of [{}, [], "", null, false, { limit: null, disableOOMKiller: false }, { a: [] }]) {
      for (const u of UNSUPPORTED) expect(() => refuseUnsupported(withField(u.field, v), noHost)).not.toThrow();
    }
  });

  test("the LSM and RDT fields say what the host lacks, and that runts does not apply them where it has them", () => {
    expect(() => refuseUnsupported(withField("process.apparmorProfile", "p"), noHost)).toThrow("AppArmor is not enabled on this host");
    expect(() => refuseUnsupported(withField("process.apparmorProfile", "p"), allHost)).toThrow("not supported by runts yet");
    expect(() => refuseUnsupported(withField("process.selinuxLabel", "l"), noHost)).toThrow("SELinux is disabled or not supported on this host");
    expect(() => refuseUnsupported(withField("linux.intelRdt", { closID: "c" }), noHost)).toThrow("resctrl is not mounted");
  });

  test("a linux.resources field runts does not know is refused too", () => {
    expect(() => refuseUnsupported(withField("linux.resources.someFutureLimit", 5), noHost)).toThrow("config.json: linux.resources.someFutureLimit: not supported by runts yet");
  });
});

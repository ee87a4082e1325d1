import { describe, expect, test } from "bun:test";
import { refuseUnsupported, RESOURCES_APPLIED, UNSUPPORTED } from "../../src/plan/unsupported.ts";
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

  const RESOURCES = ["someFutureLimit"];

  test("a linux.resources field runts does not apply is refused, naming it; empty ones are not", () => {
    expect(RESOURCES_APPLIED).toEqual(["devices", "memory", "cpu", "pids", "blockIO", "hugepageLimits", "network", "rdma", "unified"]);
    for (const r of RESOURCES) {
      expect(() => refuseUnsupported(withField(`linux.resources.${r}`, { limit: 1 }), allHost)).toThrow(
        `config.json: linux.resources.${r}: cgroup resource limits are not supported by runts yet`,
      );
      expect(() => refuseUnsupported(withField(`linux.resources.${r}`, {}), allHost)).not.toThrow();
    }
    expect(() => refuseUnsupported(withField("linux.resources.devices", [{ allow: true, access: "rwm" }]), noHost)).not.toThrow();
  });
});

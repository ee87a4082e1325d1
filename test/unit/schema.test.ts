// Validates the precompiled schema validators (src/spec/validate.ts) against the OCI
// runtime-spec example documents in ../shared/oci/test/{config,state,features}/{good,bad}
// and checks the one-line error format. Needs `bun scripts/build-validators.ts` first.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { checkConfig, checkFeatures, checkState, parseAndCheck, type SpecDocument } from "../../src/spec/validate";

const sharedDir = path.resolve(import.meta.dir, "../../../shared/oci");
const examplesDir = path.join(sharedDir, "test");

const documents: { doc: SpecDocument; label: string; check: (data: unknown) => string | null }[] = [
  { doc: "config", label: "config.json", check: checkConfig },
  { doc: "state", label: "state", check: checkState },
  { doc: "features", label: "features", check: checkFeatures },
];

function examples(doc: SpecDocument, kind: "good" | "bad"): string[] {
  const dir = path.join(examplesDir, doc, kind);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => path.join(dir, f));
}

test("the shared OCI example documents are available", () => {
  if (!existsSync(examplesDir)) {
    throw new Error(
      `OCI runtime-spec examples not found at ${examplesDir}; ` +
        "expected the shared test data (…/shared/oci/test/{config,state,features}/{good,bad}) next to the repository",
    );
  }
  for (const { doc } of documents) {
    expect(examples(doc, "good").length).toBeGreaterThan(0);
    expect(examples(doc, "bad").length).toBeGreaterThan(0);
  }
});

for (const { doc, label, check } of documents) {
  describe(`${doc}: official good examples pass`, () => {
    for (const file of examples(doc, "good")) {
      test(path.basename(file), () => {
        expect(check(JSON.parse(readFileSync(file, "utf8")))).toBeNull();
      });
    }
  });

  describe(`${doc}: official bad examples fail`, () => {
    for (const file of examples(doc, "bad")) {
      test(path.basename(file), () => {
        const result = parseAndCheck(doc, readFileSync(file, "utf8"));
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(result.error.startsWith(`${label}: /`)).toBe(true);
          expect(result.error).not.toContain("\n");
        }
      });
    }
  });
}

const minimal = { ociVersion: "1.2.0", root: { path: "rootfs" } };
const proc = { cwd: "/", args: ["sh"], user: { uid: 0, gid: 0 } };

describe("config.json error messages", () => {
  test("missing ociVersion", () => {
    expect(checkConfig({ root: { path: "rootfs" } })).toBe('config.json: /: missing required property "ociVersion"');
    expect(checkConfig({})).toBe('config.json: /: missing required property "ociVersion"');
  });

  test("wrong namespace type", () => {
    expect(checkConfig({ ...minimal, linux: { namespaces: [{ type: "pid" }, { type: "foo" }] } })).toBe(
      'config.json: /linux/namespaces/1/type: must be one of pid, network, mount, ipc, uts, user, cgroup, time (got "foo")',
    );
  });

  test("process.args not an array", () => {
    expect(checkConfig({ ...minimal, process: { ...proc, args: "sh" } })).toBe(
      "config.json: /process/args: must be array",
    );
  });

  test("not an object", () => {
    expect(checkConfig([])).toBe("config.json: /: must be object");
    expect(checkConfig(null)).toBe("config.json: /: must be object");
  });

  test("ociVersion must be SemVer", () => {
    expect(checkConfig({ ...minimal, ociVersion: "1.0" })).toBe(
      'config.json: /ociVersion: must be a SemVer 2.0.0 version such as "1.2.0" (got "1.0")',
    );
    expect(checkConfig({ ...minimal, ociVersion: "1.0.2-dev" })).toBeNull();
  });

  test("POSIX rules: root, args, absolute cwd, uid/gid", () => {
    expect(checkConfig({ ociVersion: "1.0.0" })).toBe('config.json: /: missing required property "root"');
    expect(checkConfig({ ...minimal, process: { cwd: "/" } })).toBe(
      'config.json: /process: missing required property "args"',
    );
    expect(checkConfig({ ...minimal, process: { ...proc, args: [] } })).toBe(
      "config.json: /process/args: must have at least 1 item",
    );
    expect(checkConfig({ ...minimal, process: { ...proc, cwd: "tmp" } })).toBe(
      'config.json: /process/cwd: must be an absolute path (got "tmp")',
    );
    expect(checkConfig({ ...minimal, process: { ...proc, user: { gid: 0 } } })).toBe(
      'config.json: /process/user: missing required property "uid"',
    );
    // runc takes a missing gid as 0; so does runts.
    expect(checkConfig({ ...minimal, process: { ...proc, user: { uid: 0 } } })).toBeNull();
    // Windows: no root (Hyper-V), commandLine instead of args, drive-letter cwd.
    expect(checkConfig({ ociVersion: "1.0.0", windows: {}, process: { cwd: "c:\\", commandLine: "cmd" } })).toBeNull();
  });

  test("integer ranges", () => {
    expect(checkConfig({ ...minimal, process: { ...proc, user: { uid: 4294967296, gid: 0 } } })).toBe(
      "config.json: /process/user/uid: must be <= 4294967295 (got 4294967296)",
    );
    expect(checkConfig({ ...minimal, linux: { resources: { memory: { limit: 1.5 } } } })).toBe(
      "config.json: /linux/resources/memory/limit: must be integer",
    );
    expect(checkConfig({ ...minimal, linux: { resources: { memory: { limit: 1e20 } } } })).toBe(
      "config.json: /linux/resources/memory/limit: must be <= 9223372036854775807 (got 100000000000000000000)",
    );
    // RLIM_INFINITY (2^64-1) and unlimited memory (-1) are valid.
    const rlimits = [{ type: "RLIMIT_NOFILE", soft: 18446744073709551615, hard: 18446744073709551615 }];
    expect(checkConfig({ ...minimal, process: { ...proc, rlimits }, linux: { resources: { memory: { limit: -1 } } } })).toBeNull();
  });

  test("conditional and at-least-one-of rules", () => {
    expect(checkConfig({ ...minimal, linux: { devices: [{ type: "c", path: "/dev/x" }] } })).toBe(
      'config.json: /linux/devices/0: missing required property "major"',
    );
    expect(checkConfig({ ...minimal, linux: { devices: [{ type: "p", path: "/dev/fifo" }] } })).toBeNull();
    expect(checkConfig({ ...minimal, linux: { resources: { rdma: { mlx5_1: {} } } } })).toBe(
      'config.json: /linux/resources/rdma/mlx5_1: must have at least one of the properties "hcaHandles", "hcaObjects"',
    );
    expect(checkConfig({ ...minimal, mounts: [{ destination: "/x", uidMappings: [] }] })).toBe(
      'config.json: /mounts/0: property "gidMappings" is required when "uidMappings" is present',
    );
  });

  test("annotations", () => {
    expect(checkConfig({ ...minimal, annotations: { "": "x" } })).toBe(
      'config.json: /annotations: property name "" must not be empty',
    );
    expect(checkConfig({ ...minimal, annotations: { "a/b": 1 } })).toBe("config.json: /annotations/a~1b: must be string");
  });

  test("unknown properties are ignored", () => {
    expect(checkConfig({ ...minimal, x: 1, process: { ...proc, y: [] }, linux: { z: {} } })).toBeNull();
  });

  test("invalid JSON text", () => {
    const r = parseAndCheck("config", "{]");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toStartWith("config.json: /: invalid JSON: ");
    expect(parseAndCheck("config", JSON.stringify(minimal))).toEqual({ ok: true, value: minimal });
  });
});

describe("state and features error messages", () => {
  const state = { ociVersion: "1.0.2", id: "c1", status: "running", pid: 42, bundle: "/b" };

  test("state", () => {
    expect(checkState(state)).toBeNull();
    expect(checkState({ ...state, status: "stopped", pid: undefined })).toBeNull();
    expect(checkState({ ...state, pid: undefined })).toBe('state: /: missing required property "pid"');
    expect(checkState({ ...state, status: "gone" })).toBe(
      'state: /status: must be one of creating, created, running, stopped, paused (got "gone")',
    );
    expect(checkState({ ...state, bundle: "b" })).toBe('state: /bundle: must be an absolute path (got "b")');
  });

  test("features", () => {
    expect(checkFeatures({ ociVersionMin: "1.0.0", ociVersionMax: "1.3.0" })).toBeNull();
    expect(checkFeatures({ ociVersionMin: "1.0.0" })).toBe('features: /: missing required property "ociVersionMax"');
    expect(checkFeatures({ ociVersionMin: "1.0.0", ociVersionMax: "1.3.0", linux: { namespaces: ["net"] } })).toBe(
      'features: /linux/namespaces/0: must be one of pid, network, mount, ipc, uts, user, cgroup, time (got "net")',
    );
  });
});

test("generated validators module is self-contained", () => {
  const code = readFileSync(path.resolve(import.meta.dir, "../../src/spec/generated/validators.js"), "utf8");
  expect(code).not.toMatch(/\brequire\s*\(/);
  expect(code).not.toMatch(/^\s*import\b/m);
});

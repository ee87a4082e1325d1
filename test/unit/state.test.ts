import { describe, expect, test } from "bun:test";
import { stateJson } from "../../src/container/lifecycle.ts";
import { StateDir, type StoredState } from "../../src/state/state-dir.ts";
import type { Status } from "../../src/state/status.ts";

const stored = (over: Partial<StoredState> = {}): StoredState => ({
  ociVersion: "1.2.0",
  id: "c1",
  pid: 4242,
  pidStartTime: "123",
  bundle: "/b",
  rootfs: "/b/rootfs",
  created: "2024-01-02T03:04:05.000Z",
  owner: "root",
  cgroupDir: "/sys/fs/cgroup/c1",
  hooks: { poststop: [{ path: "/bin/true" }] },
  ...over,
});

const json = (status: Status, over: Partial<StoredState> = {}) => stateJson({ dir: new StateDir("/run/runts", "c1"), state: stored(over), status });

describe("stateJson (runc's `state` output)", () => {
  test("exactly runc's fields, in runc's order; runts-internal fields stay out", () => {
    const out = json("running");
    expect(Object.keys(out)).toEqual(["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"]);
    expect(out).toEqual({
      ociVersion: "1.2.0",
      id: "c1",
      pid: 4242,
      status: "running",
      bundle: "/b",
      rootfs: "/b/rootfs",
      created: "2024-01-02T03:04:05.000Z",
      owner: "root",
    });
  });

  test("pid is 0 once stopped, and the stored pid in every other status", () => {
    for (const status of ["creating", "created", "running", "paused"] as const) expect({ status, pid: json(status).pid }).toEqual({ status, pid: 4242 });
    expect(json("stopped")).toMatchObject({ status: "stopped", pid: 0 });
  });

  test("annotations are copied exactly; empty or absent ones are left out (omitempty)", () => {
    const annotations = { "org.example/key": "v", empty: "", quote: 'a "b" \\ c' };
    const out = json("created", { annotations });
    expect(out.annotations).toEqual(annotations);
    expect(Object.keys(out)).toEqual(["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations", "owner"]);
    expect("annotations" in json("created", { annotations: {} })).toBe(false);
    expect("annotations" in json("created")).toBe(false);
  });
});

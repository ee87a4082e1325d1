/**
 * Per-test bookkeeping for integration tests: every container, bundle, host path and cleanup
 * a test registers is removed after it, pass or fail. `testScope()` registers requireRoot
 * before the file's tests and the cleanup after each of them.
 */
import { afterEach, beforeAll, expect } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { forceCleanup, hostMounts, leftovers, probeInfo, type ProbeInfo, requireRoot, type Runtime, runtime, type RunResult, uniqueId } from "./harness";
import { type Bundle, type BundleOptions, makeBundle } from "./rootfs";

/** Host mount points at or below dir. */
export function mountsUnder(dir: string): string[] {
  return hostMounts()
    .map((m) => m.mountPoint)
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

/** Detaches everything mounted at or below dir (only a test's own dirs), however deeply stacked. */
export function unmountAll(dir: string): void {
  for (let i = 0; i < 20 && mountsUnder(dir).length > 0; i++) {
    for (const mp of mountsUnder(dir).sort((a, b) => b.length - a.length)) spawnSync("umount", ["-l", mp], { stdio: "ignore" });
  }
}

/** A foreground `run` of a bundle: its result, the container id and the bundle. */
export interface Ran {
  r: RunResult;
  id: string;
  bundle: Bundle;
}

/** Asserts the run succeeded (showing stderr otherwise). */
export function expectOk(ran: Ran): void {
  expect({ code: ran.r.code, stderr: ran.r.stderr }).toMatchObject({ code: 0 });
}

/** Asserts the run succeeded and parses the probe's JSON line(s) from its stdout. */
export function infoOf(ran: Ran): ProbeInfo {
  expectOk(ran);
  return probeInfo(ran.r.stdout.split("\n").filter((l) => l.startsWith("{")).join("\n"));
}

function bestEffort(fns: (() => void)[]): void {
  for (const f of fns.splice(0).reverse()) {
    try {
      f();
    } catch {
      // cleanup goes on
    }
  }
}

export interface Scope {
  /** A unique container id for rt, force-deleted after the test. */
  newId(rt: Runtime, prefix?: string): string;
  /** A bundle (see makeBundle), unmounted and removed after the test. */
  newBundle(opts?: BundleOptions): Bundle;
  /** A fresh host directory under /tmp, unmounted and removed after the test. */
  hostDir(prefix: string): string;
  /** A host path (file or directory) this test makes, unmounted and removed after the test. */
  hostPath(p: string): string;
  /** Runs fn after the test, after its containers are gone (last registered, first run). */
  defer(fn: () => void): void;
  /** Runs fn after the test before anything else (e.g. lets a runtime blocked in a hook go on). */
  release(fn: () => void): void;
  /** `<rt> run` (foreground) of a fresh bundle whose config `config` mutates. */
  run(rt: Runtime, config?: (c: any) => void, prep?: (b: Bundle) => void): Ran;
  /** Every container this test used is gone from the host. */
  expectNoLeftovers(): void;
  /** Every container this test used; what expectNoLeftovers checks. */
  containers(): readonly { rt: Runtime; id: string }[];
}

export function testScope(defaultPrefix: string): Scope {
  const containers: { rt: Runtime; id: string }[] = [];
  const bundles: Bundle[] = [];
  const paths: string[] = [];
  const cleanups: (() => void)[] = [];
  const releases: (() => void)[] = [];

  const scope: Scope = {
    newId(rt, prefix = defaultPrefix) {
      const id = uniqueId(prefix);
      containers.push({ rt, id });
      return id;
    },
    newBundle(opts = {}) {
      const b = makeBundle(opts);
      bundles.push(b);
      return b;
    },
    hostDir(prefix) {
      return scope.hostPath(mkdtempSync(`/tmp/runts-${defaultPrefix}-${prefix}-`));
    },
    hostPath(p) {
      paths.push(p);
      return p;
    },
    defer(fn) {
      cleanups.push(fn);
    },
    release(fn) {
      releases.push(fn);
    },
    run(rt, config, prep) {
      const bundle = scope.newBundle({ config });
      prep?.(bundle);
      const id = scope.newId(rt);
      const r = runtime(rt.bin, ["--root", rt.root, "run", "--bundle", bundle.dir, id]);
      return { r, id, bundle };
    },
    expectNoLeftovers() {
      for (const { rt, id } of containers) {
        expect({ runtime: rt.name, id, leftovers: leftovers(id, rt.root) }).toEqual({ runtime: rt.name, id, leftovers: [] });
      }
    },
    containers: () => containers,
  };

  beforeAll(() => requireRoot());
  afterEach(() => {
    bestEffort(releases);
    for (const { rt, id } of containers.splice(0).reverse()) forceCleanup(rt.bin, rt.root, id);
    bestEffort(cleanups);
    for (const b of bundles.splice(0)) {
      unmountAll(b.dir);
      b.cleanup();
    }
    for (const p of paths.splice(0).reverse()) {
      unmountAll(p);
      if (mountsUnder(p).length === 0) rmSync(p, { recursive: true, force: true });
    }
  });
  return scope;
}

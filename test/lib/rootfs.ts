/**
 * The test rootfs (busybox + /bin/probe) and OCI bundles built from it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import tmp from "tmp";
import { defaultSpec } from "../../src/spec/defaultSpec";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PROBE_SRC = path.join(REPO, "test/probe/probe.c");
const BUSYBOX = "/bin/busybox";
/** Bump when the layout below changes, so cached rootfs dirs are rebuilt. */
const RECIPE = "rootfs-v1";

const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "tester:x:1000:1000:tester:/home/tester:/bin/sh",
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
  "",
].join("\n");

const GROUP = ["root:x:0:", "tty:x:5:", "tester:x:1000:", "nogroup:x:65534:", ""].join("\n");

let cached: string | null = null;

/**
 * Path of the shared test rootfs: /bin/busybox with a symlink in /bin for every applet,
 * /bin/probe (compiled from test/probe/probe.c), /etc/passwd and /etc/group, and empty
 * /proc /sys /dev /tmp /root /run /home. Built once into
 * /tmp/runts-test-rootfs-<hash> (temp dir + atomic rename, so parallel test processes do not
 * race). Read-only by convention: tests that modify the rootfs use makeBundle()'s copy.
 */
export function testRootfs(): string {
  if (cached && existsSync(path.join(cached, ".complete"))) return cached;
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing (Debian package busybox-static)`);
  const hash = createHash("sha256")
    .update(RECIPE)
    .update(readFileSync(PROBE_SRC))
    .update(String(statSync(BUSYBOX).mtimeMs))
    .digest("hex")
    .slice(0, 16);
  const final = `/tmp/runts-test-rootfs-${hash}`;
  if (existsSync(path.join(final, ".complete"))) return (cached = final);

  const work = `${final}.tmp-${process.pid}-${Math.random().toString(16).slice(2, 10)}`;
  try {
    buildRootfs(work);
    try {
      renameSync(work, final);
    } catch (e) {
      // Another process won the race (ENOTEMPTY/EEXIST): use theirs.
      if (!existsSync(path.join(final, ".complete"))) throw e;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return (cached = final);
}

function buildRootfs(dir: string): void {
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  for (const d of ["bin", "proc", "sys", "dev", "tmp", "root", "etc", "run", "home"]) {
    mkdirSync(path.join(dir, d), { mode: 0o755 });
  }
  chmodSync(path.join(dir, "tmp"), 0o1777);
  chmodSync(path.join(dir, "root"), 0o700);

  copyFileSync(BUSYBOX, path.join(dir, "bin/busybox"));
  chmodSync(path.join(dir, "bin/busybox"), 0o755);
  const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" })
    .split("\n")
    .map((s) => s.trim())
    .filter((s) => s !== "" && s !== "busybox" && !s.includes("/"));
  for (const a of applets) symlinkSync("busybox", path.join(dir, "bin", a));

  const gcc = spawnSync("gcc", ["-static", "-O2", "-Wall", "-Wextra", "-o", path.join(dir, "bin/probe"), PROBE_SRC], {
    encoding: "utf8",
  });
  if (gcc.status !== 0) {
    throw new Error(`compiling ${PROBE_SRC} failed: ${gcc.error?.message ?? ""}${gcc.stderr ?? ""}`);
  }

  writeFileSync(path.join(dir, "etc/passwd"), PASSWD, { mode: 0o644 });
  writeFileSync(path.join(dir, "etc/group"), GROUP, { mode: 0o644 });
  writeFileSync(path.join(dir, ".complete"), "");
}

export interface Bundle {
  /** The bundle directory (holds config.json). */
  dir: string;
  /** Absolute path of the rootfs the config points at. */
  rootfs: string;
  /** The config, mutable; call write() after changing it. */
  config: any;
  /** (Re)writes dir/config.json from `config`. */
  write(): void;
  /** Removes the bundle (refuses if something is still mounted under it). */
  cleanup(): void;
}

export interface BundleOptions {
  /** Mutates the config before it is first written. */
  config?: (c: any) => void;
  /** "copy" (default): a bundle-local `cp -a` of the test rootfs at dir/rootfs (root.path
   *  "rootfs", relative, as `runc spec` writes it) that the test may modify.
   *  "shared": root.path is the absolute path of the shared rootfs, root.readonly forced true. */
  rootfs?: "copy" | "shared";
}

/**
 * A bundle whose config.json is defaultSpec() with process.terminal=false and
 * process.args ["/bin/probe","info"]. root.readonly stays as `runc spec` has it (true).
 */
export function makeBundle(opts: BundleOptions = {}): Bundle {
  const shared = testRootfs();
  const dir = tmp.dirSync({ prefix: "runts-bundle", tmpdir: "/tmp" }).name;
  chmodSync(dir, 0o755);
  let rootfs: string;
  const config: any = defaultSpec();
  config.process.terminal = false;
  config.process.args = ["/bin/probe", "info"];
  if (opts.rootfs === "shared") {
    rootfs = shared;
    config.root = { path: shared, readonly: true };
  } else {
    rootfs = path.join(dir, "rootfs");
    const cp = spawnSync("cp", ["-a", shared, rootfs], { encoding: "utf8" });
    if (cp.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`cp -a ${shared} ${rootfs} failed: ${cp.error?.message ?? ""}${cp.stderr ?? ""}`);
    }
    config.root.path = "rootfs";
  }
  opts.config?.(config);

  const bundle: Bundle = {
    dir,
    rootfs,
    config,
    write() {
      writeFileSync(path.join(dir, "config.json"), JSON.stringify(bundle.config, null, "\t"));
    },
    cleanup() {
      removeBundleDir(dir);
    },
  };
  bundle.write();
  return bundle;
}

function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((mp): mp is string => mp !== undefined)
    .map((mp) => mp.replace(/\\([0-3][0-7]{2})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((mp) => mp === dir || mp.startsWith(prefix));
}

/** rm -rf that never descends into something mounted below `dir` (a leaked bind mount of a
 *  host path would otherwise have its contents deleted): such mounts are lazily detached
 *  first (they are the runtime's leak, under our own temp dir), and if that fails we refuse. */
function removeBundleDir(dir: string): void {
  if (!existsSync(dir)) return;
  let mounted = mountsUnder(dir);
  if (mounted.length > 0) {
    for (const mp of mounted.sort((a, b) => b.length - a.length)) {
      spawnSync("umount", ["-l", mp], { stdio: "ignore" });
    }
    mounted = mountsUnder(dir);
    if (mounted.length > 0) {
      throw new Error(`not removing ${dir}: still mounted under it: ${mounted.join(", ")}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

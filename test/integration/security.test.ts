/**
 * Regression tests for known container-runtime vulnerability classes (runc/crun CVEs). Each
 * test fails on a runtime that lacks the defence:
 *   - CVE-2019-5736: /proc/self/exe of container processes must never be the runtime binary
 *   - fd leaks into the container (CVE-2016-9962, CVE-2024-21626)
 *   - masked and read-only /proc paths (CVE-2019-16884 / CVE-2023-27561 family)
 *   - hostile rootfs symlinks for /proc, /dev/null, mount destinations and cwd
 *     (CVE-2019-19921, CVE-2021-30465, CVE-2023-27561)
 *   - mount destinations with ".." (CVE-2021-30465)
 *   - capabilities and pid namespace isolation
 */
import { describe, expect, test } from "bun:test";
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  BOTH,
  capMask,
  containerState,
  hostMounts,
  probeInfo,
  ROOTS,
  RT_RUNC,
  RT_RUNTS,
  RUNC,
  runtime,
  RUNTS,
  spawnRuntime,
  waitFor,
} from "../lib/harness";
import { expectOk, infoOf, mountsUnder, testScope } from "../lib/scope";
import { keyed, sh, tagged } from "../lib/script";

const scope = testScope("sec");
const { newBundle, hostPath, run, expectNoLeftovers, newId } = scope;

// ---------------------------------------------------------------------------------------------
// Local helpers.

/** A shell script in the container; `w PATH DATA` writes and prints "ok", "EROFS" or "error: ...". */

const uniq = () => `${process.pid}-${Math.floor(Math.random() * 0x1000000).toString(16)}`;

/** CAP_AUDIT_WRITE | CAP_KILL | CAP_NET_BIND_SERVICE */
const DEFAULT_CAPS = (1n << 5n) | (1n << 10n) | (1n << 29n);

// ---------------------------------------------------------------------------------------------

describe("security regressions", () => {

  // ---- CVE-2019-5736 -------------------------------------------------------------------------

  test("CVE-2019-5736: /proc/self/exe in the container is the container's program", () => {
    for (const rt of BOTH) {
      const info = infoOf(run(rt));
      expect({ rt: rt.name, exe: info.exe }).toEqual({ rt: rt.name, exe: "/bin/probe" });
    }
    expectNoLeftovers();
  });

  test("CVE-2019-5736: /proc/self/exe of processes forked and exec'ed in the container is their own program", () => {
    const runtsReal = realpathSync(RUNTS);
    for (const rt of BOTH) {
      const ran = run(rt, (c) => (c.process.args = ["/bin/sh", "-c", "readlink /proc/self/exe; sleep 1 & readlink /proc/$!/exe; wait"]));
      expectOk(ran);
      const exes = ran.r.stdout.trim().split("\n");
      expect({ rt: rt.name, exes }).toEqual({ rt: rt.name, exes: ["/bin/busybox", "/bin/busybox"] });
      for (const exe of exes) {
        expect(exe).not.toBe(runtsReal);
        expect(exe).not.toMatch(/memfd|runts|bun|node/);
      }
    }
    expectNoLeftovers();
  });

  test("CVE-2019-5736: the created-but-not-started init is a sealed memfd copy of runts-init, not the runts/bun binary", async () => {
    const bundle = newBundle({ config: (c) => (c.process.args = ["/bin/probe", "exit", "0"]) });
    const id = newId(RT_RUNTS);
    const created = runtime(RUNTS, ["--root", ROOTS.runts, "create", "--bundle", bundle.dir, id]);
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: "" });
    const pid = containerState(RUNTS, ROOTS.runts, id)?.pid as number;
    expect(pid).toBeGreaterThan(0);
    const exe = readlinkSync(`/proc/${pid}/exe`);
    expect(exe).toBe("/memfd:runts-init (deleted)");
    const runtsReal = realpathSync(RUNTS);
    expect(exe).not.toBe(runtsReal);
    expect(exe).not.toContain("bun");
    expect(exe).not.toMatch(/\/dist\/runts$/);
    // and no fd of the waiting init points at the runts binary either
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target = "";
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      expect({ fd, target }).not.toEqual({ fd, target: runtsReal });
    }
    expect(runtime(RUNTS, ["--root", ROOTS.runts, "start", id]).code).toBe(0);
    await waitFor("the container to stop", () => containerState(RUNTS, ROOTS.runts, id)?.status === "stopped");
    expect(runtime(RUNTS, ["--root", ROOTS.runts, "delete", id]).code).toBe(0);
    expectNoLeftovers();
  });

  // ---- fd leaks --------------------------------------------------------------------------------

  test("no runtime fd leaks into the container: only 0, 1, 2", () => {
    for (const rt of BOTH) {
      const info = infoOf(run(rt));
      expect({ rt: rt.name, fds: info.fds.map((f) => f.fd) }).toEqual({ rt: rt.name, fds: [0, 1, 2] });
    }
    expectNoLeftovers();
  });

  test("--preserve-fds 1 passes exactly fd 3 (the caller's) and nothing else", async () => {
    for (const rt of BOTH) {
      const bundle = newBundle();
      const id = newId(rt);
      const file = hostPath(`/tmp/runts-sec-preserved-${uniq()}`);
      writeFileSync(file, "");
      const fd = openSync(file, "r");
      try {
        const child = spawnRuntime(rt.bin, ["--root", rt.root, "run", "--preserve-fds", "1", "--bundle", bundle.dir, id], { extraFds: [fd] });
        const r = await child.result;
        expect({ rt: rt.name, code: r.code, stderr: r.stderr }).toMatchObject({ rt: rt.name, code: 0 });
        const info = probeInfo(r.stdout);
        expect({ rt: rt.name, fds: info.fds.map((f) => f.fd) }).toEqual({ rt: rt.name, fds: [0, 1, 2, 3] });
        expect(info.fds.find((f) => f.fd === 3)?.target).toBe(file);
      } finally {
        closeSync(fd);
      }
    }
    expectNoLeftovers();
  });

  test("CVE-2024-21626: --preserve-fds N beyond the fds the caller passed fails and leaves nothing (runc 1.1.5 leaks its own fd)", async () => {
    const file = hostPath(`/tmp/runts-sec-preserved-${uniq()}`);
    writeFileSync(file, "");
    const fd = openSync(file, "r");
    try {
      // [fds the caller passes as 3, 4, ...; N]: fd 3 + N=2 (fd 4 missing), and N=1 with none at all
      for (const [extraFds, n] of [[[fd], 2], [[], 1]] as const) {
        const bundle = newBundle();
        const id = newId(RT_RUNTS);
        const args = ["--root", RT_RUNTS.root, "run", "--preserve-fds", String(n), "--bundle", bundle.dir, id];
        const r = await spawnRuntime(RUNTS, args, { extraFds: [...extraFds] }).result;
        const missing = 3 + extraFds.length;
        expect({ n, code: r.code, stdout: r.stdout, stderr: r.stderr.trim() }).toEqual({
          n,
          code: 1,
          stdout: "",
          stderr: `runts: --preserve-fds ${n}: fd ${missing} was not passed to runts by its caller (it is close-on-exec, so runts opened it itself)`,
        });
        expect(existsSync(path.join(RT_RUNTS.root, id))).toBe(false);
      }
      // runc 1.1.5 starts the container and hands it one of its own fds as fd 4 (stricter here).
      const id = newId(RT_RUNC);
      const args = ["--root", RT_RUNC.root, "run", "--preserve-fds", "2", "--bundle", newBundle().dir, id];
      const r = await spawnRuntime(RUNC, args, { extraFds: [fd] }).result;
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
      const fds = probeInfo(r.stdout).fds;
      expect(fds.map((f) => f.fd)).toEqual([0, 1, 2, 3, 4]);
      expect(fds[3]!.target).toBe(file);
      expect(fds[4]!.target).not.toBe(file);
    } finally {
      closeSync(fd);
    }
    expectNoLeftovers();
  });

  test("CVE-2024-21626: a cwd through /proc/self/fd/N never leaves the process outside the container root", () => {
    for (const rt of BOTH) {
      for (let fd = 3; fd <= 8; fd++) {
        const ran = run(rt, (c) => (c.process.cwd = `/proc/self/fd/${fd}`));
        if (ran.r.code !== 0) continue; // refused: fine
        const info = probeInfo(ran.r.stdout);
        // getcwd() fails (ENOENT, "(unreachable)") for a directory outside the root
        expect({ rt: rt.name, fd, cwd: info.cwd.startsWith("/") }).toEqual({ rt: rt.name, fd, cwd: true });
      }
    }
    expectNoLeftovers();
  });

  // ---- masked and read-only /proc --------------------------------------------------------------

  test("masked /proc files read empty and are the null device; /proc/sysrq-trigger and /proc/sys refuse writes", () => {
    const maskedFiles = ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/latency_stats", "/proc/timer_stats", "/proc/sched_debug"].filter(
      (p) => existsSync(p),
    );
    expect(maskedFiles.length).toBeGreaterThan(0);
    const maskedDirs = ["/proc/acpi", "/proc/asound", "/proc/scsi", "/sys/firmware"].filter((p) => existsSync(p));
    const overcommit = readFileSync("/proc/sys/vm/overcommit_memory", "utf8").trim();
    const hasSysrq = existsSync("/proc/sysrq-trigger");
    for (const rt of BOTH) {
      const script = [
        ...maskedFiles.map((p, i) => `echo "F${i}=$(/bin/probe stat ${p})"; echo "R${i}=$(/bin/probe read ${p} | wc -c)"`),
        ...maskedDirs.map((p, i) => `echo "D${i}=$(ls -A ${p} | wc -l)"`),
        // "h" only prints help to the kernel log if it ever got through (this kernel may lack it)
        ...(hasSysrq ? ['echo "SYSRQ=$(w /proc/sysrq-trigger h)"'] : []),
        // the host's current value, so nothing changes even if the write got through
        `echo "SYS=$(w /proc/sys/vm/overcommit_memory ${overcommit})"`,
      ].join("; ");
      const ran = run(rt, (c) => (c.process.args = sh(script)));
      expectOk(ran);
      const k = keyed(ran.r.stdout);
      maskedFiles.forEach((p, i) => {
        expect({ rt: rt.name, path: p, stat: JSON.parse(k[`F${i}`] ?? "[{}]")[0] }).toMatchObject({
          rt: rt.name,
          path: p,
          stat: { type: "chr", major: 1, minor: 3 },
        });
        expect({ rt: rt.name, path: p, bytes: k[`R${i}`] }).toEqual({ rt: rt.name, path: p, bytes: "0" });
      });
      maskedDirs.forEach((p, i) => expect({ rt: rt.name, path: p, entries: k[`D${i}`] }).toEqual({ rt: rt.name, path: p, entries: "0" }));
      const writes: Record<string, string | undefined> = { rt: rt.name, SYSRQ: k.SYSRQ, SYS: k.SYS };
      expect(writes).toEqual({ rt: rt.name, SYSRQ: hasSysrq ? "EROFS" : undefined, SYS: "EROFS" });
    }
    expectNoLeftovers();
  });

  // ---- hostile rootfs: /proc symlink -------------------------------------------------------------

  for (const variant of ["to /", "to a host directory"] as const) {
    test(`a rootfs whose /proc is a symlink ${variant} never gets proc mounted on the host`, () => {
      const before = hostMounts();
      const beforeRoot = before.filter((m) => m.mountPoint === "/").map((m) => m.id);
      for (const rt of BOTH) {
        const target = variant === "to /" ? "/" : hostPath(mkdtempSync("/tmp/runts-sec-proc-target-"));
        const ran = run(rt, undefined, (b) => {
          rmSync(path.join(b.rootfs, "proc"), { recursive: true, force: true });
          symlinkSync(target, path.join(b.rootfs, "proc"));
        });
        // the host: nothing new at "/" or at the symlink's target
        expect({ rt: rt.name, rootMounts: hostMounts().filter((m) => m.mountPoint === "/").map((m) => m.id) }).toEqual({
          rt: rt.name,
          rootMounts: beforeRoot,
        });
        if (target !== "/") {
          expect({ rt: rt.name, mountsOnTarget: mountsUnder(target) }).toEqual({ rt: rt.name, mountsOnTarget: [] });
          expect(readdirSync(target)).toEqual([]);
        }
        expect(hostMounts().filter((m) => m.fsType === "proc" && !before.some((o) => o.id === m.id) && !m.mountPoint.startsWith(ran.bundle.dir))).toEqual([]);
        // the container: either a clean refusal, or a proc mount it can actually see
        if (ran.r.code !== 0) {
          expect({ rt: rt.name, stderr: ran.r.stderr }).toMatchObject({ rt: rt.name, stderr: expect.stringMatching(/proc/) });
        } else {
          const info = probeInfo(ran.r.stdout);
          expect({ rt: rt.name, procMounts: info.mounts.filter((m) => m.fsType === "proc").length > 0 }).toEqual({
            rt: rt.name,
            procMounts: true,
          });
        }
      }
      expectNoLeftovers();
    });
  }

  // ---- hostile rootfs: /dev/null symlink ---------------------------------------------------------

  test("a rootfs whose /dev/null is a symlink to a host file (no /dev tmpfs): the host file is untouched, masks use a real null device", () => {
    const secret = hostPath(`/tmp/runts-sec-secret-${uniq()}`);
    writeFileSync(secret, "host secret\n", { mode: 0o600 });
    const before = statSync(secret);
    const ran = run(
      RT_RUNTS,
      (c) => {
        c.mounts = c.mounts.filter((m: any) => m.destination !== "/dev");
        c.process.args = sh('echo "NULL=$(/bin/probe stat /dev/null)"; echo "KEYS=$(/bin/probe stat /proc/keys)"; echo "KEYSREAD=$(cat /proc/keys | wc -c)"; echo "W=$(w /dev/null x)"');
      },
      (b) => {
        mkdirSync(path.join(b.rootfs, "dev"), { recursive: true });
        symlinkSync(secret, path.join(b.rootfs, "dev/null"));
      },
    );
    const after = statSync(secret);
    expect(readFileSync(secret, "utf8")).toBe("host secret\n");
    expect({ mode: after.mode, uid: after.uid, gid: after.gid, size: after.size, mtime: after.mtimeMs }).toEqual({
      mode: before.mode,
      uid: before.uid,
      gid: before.gid,
      size: before.size,
      mtime: before.mtimeMs,
    });
    expect(mountsUnder(secret)).toEqual([]);
    if (ran.r.code === 0) {
      const k = keyed(ran.r.stdout);
      expect(JSON.parse(k.NULL!)[0]).toMatchObject({ type: "chr", major: 1, minor: 3 });
      expect(JSON.parse(k.KEYS!)[0]).toMatchObject({ type: "chr", major: 1, minor: 3 });
      expect(k.KEYSREAD).toBe("0");
      expect(k.W).toBe("ok");
    } else {
      expect(ran.r.stderr).toMatch(/null/);
    }
    expect(readFileSync(secret, "utf8")).toBe("host secret\n");
    expectNoLeftovers();
  });

  // ---- mount destinations ------------------------------------------------------------------------

  test('mount destinations with ".." stay inside the rootfs', () => {
    for (const rt of BOTH) {
      const name = `escape-${uniq()}`;
      const bindName = `escape-bind-${uniq()}`;
      const src = hostPath(mkdtempSync("/tmp/runts-sec-src-"));
      writeFileSync(path.join(src, "marker"), "src");
      hostPath(`/tmp/${name}`);
      hostPath(`/tmp/${bindName}`);
      const ran = run(rt, (c) => {
        c.mounts.push({ destination: `/../../../tmp/${name}`, type: "tmpfs", source: "tmpfs", options: ["size=1m"] });
        c.mounts.push({ destination: `/tmp/../../../../tmp/${bindName}`, type: "bind", source: src, options: ["bind"] });
      });
      expect({ rt: rt.name, onHost: [existsSync(`/tmp/${name}`), existsSync(`/tmp/${bindName}`)] }).toEqual({ rt: rt.name, onHost: [false, false] });
      const info = infoOf(ran);
      expect(info.mounts.find((m) => m.mountPoint === `/tmp/${name}`)?.fsType).toBe("tmpfs");
      expect(info.mounts.some((m) => m.mountPoint === `/tmp/${bindName}`)).toBe(true);
      expect(existsSync(path.join(ran.bundle.rootfs, "tmp", name))).toBe(true);
      expect(existsSync(path.join(ran.bundle.rootfs, "tmp", bindName))).toBe(true);
    }
    expectNoLeftovers();
  });

  test("a bind-mount destination that is a symlink pointing outside lands inside the rootfs", () => {
    for (const rt of BOTH) {
      const target = hostPath(`/tmp/runts-sec-host-target-${uniq()}`);
      mkdirSync(target);
      writeFileSync(path.join(target, "marker"), "host");
      const src = hostPath(mkdtempSync("/tmp/runts-sec-src-"));
      writeFileSync(path.join(src, "marker"), "src");
      const ran = run(
        rt,
        (c) => {
          c.mounts.push({ destination: "/evil", type: "bind", source: src, options: ["bind"] });
          c.process.args = sh(`echo "EVIL=$(cat /evil/marker)"; echo "RESOLVED=$(cat ${target}/marker)"`);
        },
        (b) => symlinkSync(target, path.join(b.rootfs, "evil")),
      );
      // the host's directory is neither mounted over nor changed
      expect({ rt: rt.name, mounts: mountsUnder(target), entries: readdirSync(target) }).toEqual({ rt: rt.name, mounts: [], entries: ["marker"] });
      expect(readFileSync(path.join(target, "marker"), "utf8")).toBe("host");
      expectOk(ran);
      expect(tagged(rt, ran.r.stdout)).toEqual({ rt: rt.name, EVIL: "src", RESOLVED: "src" });
      expect(lstatSync(path.join(ran.bundle.rootfs, target)).isDirectory()).toBe(true);
    }
    expectNoLeftovers();
  });

  // ---- cwd ---------------------------------------------------------------------------------------

  test("a cwd that is a symlink to an absolute path resolves inside the rootfs", () => {
    for (const rt of BOTH) {
      const target = hostPath(`/tmp/runts-sec-cwd-target-${uniq()}`);
      mkdirSync(target);
      writeFileSync(path.join(target, "marker"), "host");
      const ran = run(
        rt,
        (c) => {
          c.process.cwd = "/wd";
          c.process.args = sh('echo "PWD=$(pwd)"; echo "MARKER=$(cat marker)"; echo "W=$(w new-file x)"');
          c.root.readonly = false;
        },
        (b) => {
          mkdirSync(path.join(b.rootfs, target), { recursive: true });
          writeFileSync(path.join(b.rootfs, target, "marker"), "inside");
          symlinkSync(target, path.join(b.rootfs, "wd"));
        },
      );
      expectOk(ran);
      expect(tagged(rt, ran.r.stdout)).toEqual({ rt: rt.name, PWD: target, MARKER: "inside", W: "ok" });
      expect(readdirSync(target)).toEqual(["marker"]);
      expect(existsSync(path.join(ran.bundle.rootfs, target, "new-file"))).toBe(true);
    }
    expectNoLeftovers();
  });

  test("a cwd that is a dangling symlink to a host directory never reaches the host", () => {
    for (const rt of BOTH) {
      const target = hostPath(`/tmp/runts-sec-cwd-dangling-${uniq()}`);
      mkdirSync(target);
      writeFileSync(path.join(target, "marker"), "host");
      const ran = run(
        rt,
        (c) => {
          c.process.cwd = "/wd";
          c.process.args = sh('echo "PWD=$(pwd)"; echo "MARKER=$(cat marker 2>/dev/null || echo none)"; echo "W=$(w new-file x)"');
          c.root.readonly = false;
        },
        (b) => symlinkSync(target, path.join(b.rootfs, "wd")),
      );
      expect({ rt: rt.name, hostEntries: readdirSync(target) }).toEqual({ rt: rt.name, hostEntries: ["marker"] });
      if (ran.r.code === 0) {
        // created inside the rootfs: the host's marker is not visible
        expect(tagged(rt, ran.r.stdout)).toEqual({ rt: rt.name, PWD: target, MARKER: "none", W: "ok" });
      }
    }
    expectNoLeftovers();
  });

  // ---- capabilities and pid namespace -------------------------------------------------------------

  test("the default spec's capabilities are exactly bnd=prm=eff=0x20000420, inh=amb=0", () => {
    for (const rt of BOTH) {
      const info = infoOf(run(rt));
      expect({ rt: rt.name, caps: info.caps }).toEqual({
        rt: rt.name,
        caps: { inh: "0000000000000000", prm: "0000000020000420", eff: "0000000020000420", bnd: "0000000020000420", amb: "0000000000000000" },
      });
      expect(capMask(info.caps.bnd)).toBe(DEFAULT_CAPS);
    }
    expectNoLeftovers();
  });

  test("the container sees only its own processes", () => {
    for (const rt of BOTH) {
      const ran = run(rt, (c) => (c.process.args = ["/bin/ls", "/proc"]));
      expectOk(ran);
      const pids = ran.r.stdout
        .split(/\s+/)
        .filter((n) => /^\d+$/.test(n))
        .map(Number);
      expect({ rt: rt.name, pids }).toEqual({ rt: rt.name, pids: [1] });
      const info = infoOf(run(rt));
      expect({ rt: rt.name, pid: info.pid, ppid: info.ppid }).toEqual({ rt: rt.name, pid: 1, ppid: 0 });
      expect(info.ns.pid).not.toBe(readlinkSync("/proc/self/ns/pid"));
    }
    expectNoLeftovers();
  });
});

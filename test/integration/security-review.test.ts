/**
 * Regressions for the outside security review (issue 8): host /sys without a network
 * namespace, out-of-range ids, the pid file's temporary file, confinement that runts cannot
 * apply yet, the state root's mode, and the smaller findings. Each test fails on the code
 * before its fix; runc 1.1.5 runs next to runts where it is the reference.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BOTH, capMask, cgroupV2Root, forceCleanup, leftovers, probeInfo, RT_RUNC, RT_RUNTS, type RunResult, type Runtime, runtime, RUNTS } from "../lib/harness";
import type { Bundle } from "../lib/rootfs";
import { testScope } from "../lib/scope";
import { sh } from "../lib/script";

const scope = testScope("rev");
const newBundle = (config?: (c: any) => void): Bundle => scope.newBundle({ config });

function run(rt: Runtime, b: Bundle, id = scope.newId(rt), extra: string[] = [], env?: Record<string, string>): RunResult {
  return runtime(rt.bin, ["--root", rt.root, "run", ...extra, "--bundle", b.dir, id], { env });
}

/** Fails with one line naming `field`, and leaves nothing behind. */
function expectRefused(r: RunResult, field: string): void {
  expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
  expect(r.stderr).toContain(field);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  scope.expectNoLeftovers();
}

describe("security review (issue 8)", () => {
  // ---- 2: sysfs without a network namespace --------------------------------------------------

  test("sysfs without a network namespace: no host cgroup, tracefs or debugfs mount, and no such file writable (as runc)", () => {
    // What the container can write under /sys: mounts below /sys, and writable cgroup,
    // tracing, debug and security files (access(2) says EROFS for a read-only mount).
    const script =
      "awk '$5 ~ \"^/sys/\" {print \"MOUNT \" $5}' /proc/self/mountinfo; " +
      "for f in $(find /sys/fs/cgroup /sys/kernel/tracing /sys/kernel/debug /sys/kernel/security -type f 2>/dev/null); do " +
      '[ -w "$f" ] && echo "WRITABLE $f"; done; echo done';
    const out: Record<string, string> = {};
    for (const rt of BOTH) {
      const b = newBundle((c) => {
        c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== "network");
        // No cgroup mount over /sys/fs/cgroup: what the sysfs mount itself brings is visible.
        c.mounts = c.mounts.filter((m: any) => m.type !== "cgroup");
        c.process.args = sh(script);
      });
      const r = run(rt, b);
      expect({ rt: rt.name, code: r.code, stderr: r.stderr }).toEqual({ rt: rt.name, code: 0, stderr: "" });
      out[rt.name] = r.stdout;
    }
    // Both mask /sys/firmware (the default spec's maskedPaths); nothing else is mounted there.
    expect(out.runts).toBe("MOUNT /sys/firmware\ndone\n");
    expect(out.runts).toBe(out.runc!);
    scope.expectNoLeftovers();
  });

  test("sysfs without a network namespace keeps the mount's flags: ro, nosuid, nodev, noexec", () => {
    const b = newBundle((c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== "network");
      c.process.args = sh("awk '$5 == \"/sys\" {print $6}' /proc/self/mountinfo");
    });
    const r = run(RT_RUNTS, b);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout.trim().split(",").sort()).toEqual(expect.arrayContaining(["ro", "nosuid", "nodev", "noexec"]));
    scope.expectNoLeftovers();
  });

  // ---- 3: ids ----------------------------------------------------------------------------------

  const BAD_IDS: [string, (c: any) => void][] = [
    ["process.user.uid", (c) => (c.process.user.uid = 4294967295)],
    ["process.user.gid", (c) => (c.process.user.gid = 4294967295)],
    ["process.user.additionalGids[1]", (c) => (c.process.user.additionalGids = [5, 2147483648])],
  ];
  for (const [field, set] of BAD_IDS) {
    test(`${field} outside 0..2147483647 is refused, as runc refuses it (never runs as root)`, () => {
      for (const rt of BOTH) {
        const b = newBundle((c) => {
          set(c);
          c.process.args = ["/bin/id"];
        });
        const r = run(rt, b);
        expect({ rt: rt.name, code: r.code, ranAsRoot: r.stdout.includes("uid=0") }).toEqual({ rt: rt.name, code: 1, ranAsRoot: false });
        if (rt === RT_RUNTS) expectRefused(r, field);
      }
    });
  }

  test("id mappings out of range or running past 2^31-1 are refused naming the field", () => {
    const cases: [string, any][] = [
      ["linux.uidMappings[0].hostID", [{ containerID: 0, hostID: 4294967295, size: 1 }]],
      ["linux.uidMappings[0].size", [{ containerID: 0, hostID: 2147483000, size: 1000 }]],
      ["linux.uidMappings[0].size", [{ containerID: 0, hostID: 1000, size: 0 }]],
    ];
    for (const [field, maps] of cases) {
      const b = newBundle((c) => {
        c.linux.namespaces.push({ type: "user" });
        c.linux.uidMappings = maps;
        c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      });
      expectRefused(run(RT_RUNTS, b), field);
    }
  });

  // ---- 4: files created on caller-given paths ----------------------------------------------------

  test("--pid-file: a symlink planted at the temporary file's name is not followed (runc: O_EXCL too)", () => {
    const dir = scope.hostDir("runts-pidfile");
    const victim = path.join(scope.hostDir("runts-victim"), "victim");
    writeFileSync(victim, "victim\n");
    // The temporary file is named for runts's pid: plant the next few hundred.
    const last = Number(readFileSync("/proc/sys/kernel/ns_last_pid", "utf8"));
    for (let p = last + 1; p < last + 400; p++) symlinkSync(victim, path.join(dir, `.pid.${p}.tmp`));
    const b = newBundle((c) => (c.process.args = ["/bin/true"]));
    const id = scope.newId(RT_RUNTS);
    const r = runtime(RUNTS, ["--root", RT_RUNTS.root, "create", "--pid-file", path.join(dir, "pid"), "--bundle", b.dir, id]);
    expect(readFileSync(victim, "utf8")).toBe("victim\n");
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 1, stderr: expect.stringContaining("write pid file") });
    scope.expectNoLeftovers();
  });

  test("--pid-file: a symlink at the pid file's own name is replaced, not followed", () => {
    const dir = scope.hostDir("runts-pidfile");
    const victim = path.join(scope.hostDir("runts-victim"), "victim");
    writeFileSync(victim, "victim\n");
    symlinkSync(victim, path.join(dir, "pid"));
    const b = newBundle((c) => (c.process.args = ["/bin/true"]));
    const id = scope.newId(RT_RUNTS);
    const r = runtime(RUNTS, ["--root", RT_RUNTS.root, "create", "--pid-file", path.join(dir, "pid"), "--bundle", b.dir, id]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(readFileSync(victim, "utf8")).toBe("victim\n");
    expect(Number(readFileSync(path.join(dir, "pid"), "utf8"))).toBeGreaterThan(1);
  });

  test("spec: a dangling symlink at config.json is not followed (runc 1.1.5 writes through it)", () => {
    const dir = scope.hostDir("runts-spec");
    const target = path.join(scope.hostDir("runts-victim"), "made-by-spec");
    symlinkSync(target, path.join(dir, "config.json"));
    const r = runtime(RUNTS, ["spec", "--bundle", dir]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 1, stderr: expect.stringContaining("File exists") });
    expect(existsSync(target)).toBe(false);
  });

  // ---- 5: confinement runts cannot apply (yet) -------------------------------------------------

  const REFUSED: [string, (c: any) => void][] = [
    ["linux.resources.memory", (c) => (c.linux.resources.memory = { limit: 1 << 30 })],
    ["linux.resources.cpu", (c) => (c.linux.resources.cpu = { shares: 512 })],
    ["linux.resources.pids", (c) => (c.linux.resources.pids = { limit: 10 })],
    ["linux.resources.blockIO", (c) => (c.linux.resources.blockIO = { weight: 100 })],
    ["linux.resources.hugepageLimits", (c) => (c.linux.resources.hugepageLimits = [{ pageSize: "2MB", limit: 0 }])],
    ["linux.resources.network", (c) => (c.linux.resources.network = { classID: 1 })],
    ["linux.resources.rdma", (c) => (c.linux.resources.rdma = { mlx5_1: { hcaHandles: 1 } })],
    ["linux.resources.unified", (c) => (c.linux.resources.unified = { "memory.max": "100000000" })],
    ["process.apparmorProfile", (c) => (c.process.apparmorProfile = "runts-test")],
    ["process.selinuxLabel", (c) => (c.process.selinuxLabel = "system_u:system_r:container_t:s0")],
    ["linux.mountLabel", (c) => (c.linux.mountLabel = "system_u:object_r:container_file_t:s0")],
    ["linux.intelRdt", (c) => (c.linux.intelRdt = { closID: "runts" })],
  ];
  for (const [field, set] of REFUSED) {
    test(`${field} is refused with one line naming it, nothing started or left`, () => {
      const b = newBundle((c) => {
        set(c);
        c.process.args = ["/bin/true"];
      });
      const log = path.join(scope.hostDir("runts-log"), "log.json");
      const r = runtime(RUNTS, ["--root", RT_RUNTS.root, "--log", log, "--log-format", "json", "run", "--bundle", b.dir, scope.newId(RT_RUNTS)]);
      expectRefused(r, field);
      expect(JSON.parse(readFileSync(log, "utf8"))).toMatchObject({ level: "error", msg: expect.stringContaining(field) });
    });
  }

  test("the LSM fields are refused where runc refuses them: no AppArmor or SELinux on this host", () => {
    const fields = REFUSED.filter(([f]) => f === "process.selinuxLabel" || f === "process.apparmorProfile");
    if (!existsSync("/sys/kernel/security/apparmor") && !existsSync("/sys/fs/selinux/enforce")) {
      for (const [field, set] of fields) {
        const b = newBundle((c) => {
          set(c);
          c.process.args = ["/bin/true"];
        });
        expect({ field, code: run(RT_RUNC, b).code }).toEqual({ field, code: 1 });
        expect(run(RT_RUNTS, b).stderr).toMatch(/not (enabled|supported) on this host/);
      }
    } else {
      for (const [field, set] of fields) {
        const b = newBundle(set);
        expect(run(RT_RUNTS, b).stderr).toContain(`${field}:`);
      }
    }
  });

  test("linux.resources with devices only, empty, or empty members still runs (runc's default spec has devices)", () => {
    for (const resources of [{ devices: [{ allow: false, access: "rwm" }] }, {}, { memory: {}, cpu: {}, hugepageLimits: [] }, undefined]) {
      const b = newBundle((c) => {
        c.linux.resources = resources;
        c.process.args = ["/bin/true"];
      });
      const r = run(RT_RUNTS, b);
      expect({ resources, code: r.code, stderr: r.stderr }).toEqual({ resources, code: 0, stderr: "" });
    }
    scope.expectNoLeftovers();
  });

  // ---- the state root ------------------------------------------------------------------------------

  test("the state root is made 0700, an existing one is made 0700, one others can write or another user owns is refused", () => {
    const base = scope.hostDir("runts-root");
    const b = newBundle((c) => (c.process.args = ["/bin/true"]));
    const made = path.join(base, "made");
    const rtIn = (root: string): Runtime => ({ ...RT_RUNTS, root });
    expect(run(rtIn(made), b, scope.newId(rtIn(made))).code).toBe(0);
    expect(statSync(made).mode & 0o7777).toBe(0o700);

    const open = path.join(base, "open");
    mkdirSync(open, { mode: 0o755 });
    chmodSync(open, 0o755);
    expect(run(rtIn(open), b, scope.newId(rtIn(open))).code).toBe(0);
    expect(statSync(open).mode & 0o7777).toBe(0o700);

    const writable = path.join(base, "writable");
    mkdirSync(writable);
    chmodSync(writable, 0o1777);
    expectRefused(run(rtIn(writable), b, scope.newId(rtIn(writable))), "writable by others");
    expect(readdirSync(writable)).toEqual([]);

    const foreign = path.join(base, "foreign");
    mkdirSync(foreign, { mode: 0o700 });
    chownSync(foreign, 65534, 65534);
    expectRefused(run(rtIn(foreign), b, scope.newId(rtIn(foreign))), "owned by uid 65534");
  });

  // ---- 6: the smaller ones -------------------------------------------------------------------------

  test("a lowercase capability name is never granted: runts refuses it, runc ignores it", () => {
    for (const rt of BOTH) {
      const b = newBundle((c) => {
        for (const set of ["bounding", "effective", "permitted"]) c.process.capabilities[set].push("cap_sys_admin");
      });
      const r = run(rt, b);
      if (rt === RT_RUNTS) {
        expectRefused(r, "process.capabilities.bounding[3]");
        expect(r.stderr).toContain("CAP_SYS_ADMIN");
      } else {
        expect(capMask(probeInfo(r.stdout).caps.bnd) & (1n << 21n)).toBe(0n);
      }
    }
  });

  test("a symlinked root.path is refused, as runc refuses it", () => {
    for (const rt of BOTH) {
      const b = newBundle((c) => (c.process.args = ["/bin/true"]));
      symlinkSync("rootfs", path.join(b.dir, "linked"));
      b.config.root.path = "linked";
      b.write();
      const r = run(rt, b);
      expect({ rt: rt.name, code: r.code }).toEqual({ rt: rt.name, code: 1 });
      if (rt === RT_RUNTS) expectRefused(r, "root.path");
    }
  });

  test("an image whose /dev is a symlink into a bind-mounted volume: the volume's files are never deleted (runc keeps them too)", () => {
    const names = ["null", "zero", "full", "random", "urandom", "tty", "ptmx", "fd", "stdin", "canary"];
    for (const rt of BOTH) {
      const volume = scope.hostDir("runts-volume");
      for (const n of names) writeFileSync(path.join(volume, n), `volume ${n}\n`);
      const b = newBundle((c) => {
        c.mounts.push({ destination: "/vol", type: "bind", source: volume, options: ["rbind"] });
        c.process.args = ["/bin/true"];
      });
      rmSync(path.join(b.rootfs, "dev"), { recursive: true });
      symlinkSync("/vol", path.join(b.rootfs, "dev"));
      const r = run(rt, b);
      for (const n of names) expect({ rt: rt.name, n, text: readFileSync(path.join(volume, n), "utf8") }).toEqual({ rt: rt.name, n, text: `volume ${n}\n` });
      if (rt === RT_RUNTS) expectRefused(r, "a directory on the way is a symlink");
    }
  });

  for (const [what, id, cgroupsPath] of [
    ["a container id", "cgroup.procs", undefined],
    ["a cgroupsPath", undefined, "/runts-review/memory.pressure"],
  ] as const) {
    test(`${what} that names a cgroup interface file is refused; delete -f drops it`, () => {
      const b = newBundle((c) => {
        c.process.args = ["/bin/true"];
        if (cgroupsPath) c.linux.cgroupsPath = cgroupsPath;
      });
      const cid = id ?? scope.newId(RT_RUNTS);
      scope.defer(() => forceCleanup(RUNTS, RT_RUNTS.root, cid));
      const r = run(RT_RUNTS, b, cid);
      expectRefused(r, "cgroup interface file");
      expect(leftovers(cid, RT_RUNTS.root)).toEqual([]);
      expect(runtime(RUNTS, ["--root", RT_RUNTS.root, "delete", "-f", cid]).code).toBe(0);
      expect(existsSync(`${cgroupV2Root()}/runts-review`)).toBe(false);
    });
  }

  test("delete -f drops a state whose state.json is unreadable, or names an interface file as its cgroup (left by older runts)", () => {
    const root = scope.hostDir("root");
    chmodSync(root, 0o700);
    const v2 = cgroupV2Root();
    const states: [string, string][] = [
      ["garbage", "not json"],
      ["iface", JSON.stringify({ ociVersion: "1.2.0", id: "iface", pid: 0, pidStartTime: "", bundle: "/", rootfs: "/", created: "", owner: "root", cgroupDir: `${v2}/cgroup.procs`, creating: true })],
    ];
    for (const [id, text] of states) {
      mkdirSync(path.join(root, id), { mode: 0o711 });
      writeFileSync(path.join(root, id, "state.json"), text);
      const r = runtime(RUNTS, ["--root", root, "delete", "-f", id]);
      expect({ id, code: r.code, stderr: r.stderr }).toEqual({ id, code: 0, stderr: "" });
      expect(existsSync(path.join(root, id))).toBe(false);
    }
    expect(statSync(`${v2}/cgroup.procs`).isFile()).toBe(true);
  });

  test("delete -f removes a cgroup tree nested past PATH_MAX by the container", () => {
    const b = newBundle((c) => {
      c.mounts = c.mounts.map((m: any) => (m.type === "cgroup" ? { ...m, options: ["nosuid", "noexec", "nodev", "rw"] } : m));
      c.process.args = sh("cd /sys/fs/cgroup && i=0; while [ $i -lt 2040 ]; do mkdir a && cd a || exit 1; i=$((i+1)); done; echo nested; sleep 1000");
    });
    const id = scope.newId(RT_RUNTS);
    const r = runtime(RUNTS, ["--root", RT_RUNTS.root, "run", "-d", "--bundle", b.dir, id]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const top = `${cgroupV2Root()}/${id}`;
    const deadline = Date.now() + 60_000;
    let depth = 0;
    while (Date.now() < deadline && depth < 2040) {
      depth = Number(spawnSync("perl", ["-e", '$n = 0; chdir $ARGV[0] or die; $n++ while chdir "a"; print $n', top], { encoding: "utf8" }).stdout);
      if (depth < 2040) spawnSync("sleep", ["0.2"]);
    }
    expect(depth).toBe(2040);
    expect(top.length + 2 * depth).toBeGreaterThan(4096); // PATH_MAX
    const del = runtime(RUNTS, ["--root", RT_RUNTS.root, "delete", "-f", id], { timeoutMs: 60_000 });
    expect({ code: del.code, stderr: del.stderr }).toEqual({ code: 0, stderr: "" });
    expect(existsSync(top)).toBe(false);
    scope.expectNoLeftovers();
  }, 120_000);

  test("tmpcopyup of a 30000-deep directory fails with a clear error, not SIGSEGV", () => {
    const b = newBundle((c) => {
      c.mounts.push({ destination: "/deep", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup"] });
      c.process.args = ["/bin/true"];
    });
    mkdirSync(path.join(b.rootfs, "deep"));
    // perl-base is essential in Debian; a shell's cd would pass PATH_MAX.
    const nest = 'chdir $ARGV[0] or die; for (1 .. 30000) { mkdir "d" or die; chdir "d" or die }';
    expect(spawnSync("perl", ["-e", nest, path.join(b.rootfs, "deep")]).status).toBe(0);
    try {
      const r = run(RT_RUNTS, b);
      expectRefused(r, "deeper than 256 levels");
    } finally {
      spawnSync("rm", ["-rf", path.join(b.rootfs, "deep")]);
    }
  }, 120_000);

  test("very large env or args fail naming the field and the limit", () => {
    const many = newBundle((c) => {
      c.process.env = Array.from({ length: 70_000 }, (_, i) => `V${i}=x`);
      c.process.args = ["/bin/true"];
    });
    expectRefused(run(RT_RUNTS, many), "strings in all, more than runts's limit of 65534");
    const long = newBundle((c) => {
      c.process.env.push(`BIG=${"x".repeat(200_000)}`);
      c.process.args = ["/bin/true"];
    });
    expectRefused(run(RT_RUNTS, long), "process.env[2]: 200004 bytes");
  });

  test("koffi's addon is not extracted to $TMPDIR: create leaves nothing there", () => {
    const tmp = scope.hostDir("runts-tmpdir");
    const b = newBundle((c) => (c.process.args = ["/bin/true"]));
    const r = run(RT_RUNTS, b, scope.newId(RT_RUNTS), [], { TMPDIR: tmp });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(readdirSync(tmp)).toEqual([]);
    // Its private copy: a directory only root can enter, a file only root can write.
    const cache = "/run/runts-cache";
    expect({ mode: statSync(cache).mode & 0o7777, uid: statSync(cache).uid }).toEqual({ mode: 0o700, uid: 0 });
    for (const f of readdirSync(cache)) {
      expect({ f, mode: statSync(path.join(cache, f)).mode & 0o7777, uid: statSync(path.join(cache, f)).uid }).toEqual({ f, mode: 0o600, uid: 0 });
    }
  });
});

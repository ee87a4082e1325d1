import { describe, expect, test } from "bun:test";
import { existsSync, lstatSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";
import { capMask, isRoot, leftovers, parseMountinfoLine, probeInfo, ROOTS, runtime, uniqueId } from "../lib/harness";
import { testRootfs } from "../lib/rootfs";

const HEX16 = /^[0-9a-f]{16}$/;

describe("test rootfs", () => {
  test("has busybox applets, probe, passwd and the empty dirs", () => {
    const root = testRootfs();
    expect(root).toMatch(/^\/tmp\/runts-test-rootfs-[0-9a-f]{16}$/);
    expect(testRootfs()).toBe(root);
    expect(readlinkSync(path.join(root, "bin/sh"))).toBe("busybox");
    expect(lstatSync(path.join(root, "bin/probe")).mode & 0o111).not.toBe(0);
    for (const d of ["proc", "sys", "dev", "tmp", "root", "etc", "run", "home"]) {
      expect(lstatSync(path.join(root, d)).isDirectory()).toBe(true);
    }
    expect(existsSync(path.join(root, "etc/passwd"))).toBe(true);
  });
});

describe("probe", () => {
  // chroot into the rootfs, with a proc mounted in a private mount namespace (the host never sees it)
  const chrootProbe = (args: string[], env?: Record<string, string>) => {
    if (!isRoot) throw new Error("these tests need root (chroot, mount)");
    const script = 'mount -t proc proc "$0/proc" && exec chroot "$0" /bin/probe "$@"';
    return runtime("unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", script, testRootfs(), ...args], { env });
  };

  test("info prints sane JSON", () => {
    const r = chrootProbe(["info"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const info = probeInfo(r.stdout);
    expect(info.pid).toBeGreaterThan(0);
    expect(info.uid).toBe(0);
    expect(info.umask).toMatch(/^[0-7]{4}$/);
    expect(info.cwd).toBe("/");
    expect(info.exe).toBe("/bin/probe");
    for (const k of ["inh", "prm", "eff", "bnd", "amb"] as const) expect(info.caps[k]).toMatch(HEX16);
    expect(capMask(info.caps.eff) & (1n << 21n)).toBe(1n << 21n); // CAP_SYS_ADMIN as root on the host
    expect(info.mounts.length).toBeGreaterThan(0);
    expect(info.mounts.some((m) => m.mountPoint === "/proc" && m.fsType === "proc")).toBe(true);
    expect(info.cgroup.length).toBeGreaterThan(0);
    const nofile = info.rlimits.RLIMIT_NOFILE;
    expect(nofile).toBeDefined();
    expect(typeof nofile!.soft === "number" || nofile!.soft === "unlimited").toBe(true);
    expect(Object.keys(info.rlimits)).toContain("RLIMIT_RTTIME");
    expect(info.fds.map((f) => f.fd)).toEqual(expect.arrayContaining([0, 1, 2]));
    expect(info.ips.some((ip) => ip.startsWith("lo 127.0.0.1/8"))).toBe(true);
    expect(info.sched.policy).toBe("SCHED_OTHER");
    expect(info.cpus).toMatch(/^\d+(-\d+)?(,\d+(-\d+)?)*$/);
    expect(info.ns.pid).toMatch(/^pid:\[\d+\]$/);
    expect(info.env).toEqual(expect.arrayContaining([expect.stringMatching(/^PATH=/)]));
  });

  test("info escapes strings as JSON", () => {
    const r = chrootProbe(["info"], { WEIRD: 'a"b\\c\td\u0001' });
    expect(probeInfo(r.stdout).env).toContain('WEIRD=a"b\\c\td\u0001');
  });

  test("stat, read, write, sysctl, exit", () => {
    const st = JSON.parse(chrootProbe(["stat", "/bin", "/bin/sh", "/nope"]).stdout);
    expect(st[0]).toMatchObject({ path: "/bin", exists: true, type: "dir", mode: "0755", uid: 0 });
    expect(st[1]).toMatchObject({ type: "link", target: "busybox" });
    expect(st[2]).toEqual({ path: "/nope", exists: false, errno: 2 });
    expect(chrootProbe(["read", "/etc/group"]).stdout).toContain("tester:x:1000:");
    const bad = chrootProbe(["read", "/nope"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe("errno 2");
    expect(chrootProbe(["write", "/nope/x", "1"]).stdout.trim()).toBe("errno 2");
    expect(chrootProbe(["sysctl", "kernel.ostype"]).stdout).toBe("Linux\n");
    expect(chrootProbe(["sysctl", "kernel.nope"]).stderr.trim()).toBe("errno 2");
    expect(chrootProbe(["exit", "42"]).code).toBe(42);
  });

  test("pause reports the signal and exits 100+N", async () => {
    const proc = Bun.spawn([path.join(testRootfs(), "bin/probe"), "pause"], { stdout: "pipe" });
    // wait until the handlers are installed (SigCgt has SIGUSR1 = bit 9)
    for (let i = 0; i < 100; i++) {
      const cgt = /SigCgt:\s*([0-9a-f]+)/.exec(await Bun.file(`/proc/${proc.pid}/status`).text())?.[1] ?? "0";
      if (BigInt(`0x${cgt}`) & (1n << 9n)) break;
      await Bun.sleep(10);
    }
    proc.kill("SIGUSR1");
    expect(await proc.exited).toBe(110);
    expect(await new Response(proc.stdout).text()).toBe("signal 10\n");
  });
});

describe("harness", () => {
  test("leftovers() of a random id is empty", () => {
    expect(leftovers(uniqueId("nothing"), ROOTS.runts)).toEqual([]);
  });

  test("uniqueId is unique and a valid container id", () => {
    const a = uniqueId();
    expect(a).toMatch(/^t-\d+-\d+-[0-9a-f]{6}$/);
    expect(uniqueId()).not.toBe(a);
  });

  test("runtime() does not wait for background children holding stdout", () => {
    const t = Date.now();
    const r = runtime("sh", ["-c", "sleep 3 & echo hi"]);
    expect(r.stdout).toBe("hi\n");
    expect(Date.now() - t).toBeLessThan(2500);
  });

  test("runtime() kills and reports on timeout", () => {
    const r = runtime("sleep", ["5"], { timeoutMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe("SIGKILL");
    expect(r.stderr).toContain("timed out");
  });

  test("parseMountinfoLine decodes escapes and optional fields", () => {
    const m = parseMountinfoLine("36 35 98:0 /mnt1 /mnt\\0402 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue");
    expect(m).toEqual({
      id: 36, parentId: 35, majorMinor: "98:0", root: "/mnt1", mountPoint: "/mnt 2", options: "rw,noatime",
      optional: ["master:1", "shared:2"], fsType: "ext3", source: "/dev/root", superOptions: "rw,errors=continue",
    });
  });

  test("probe binary is static: an ELF with no PT_INTERP (no dynamic loader)", () => {
    const elf = readFileSync(path.join(testRootfs(), "bin/probe"));
    expect(elf.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    const phoff = Number(elf.readBigUInt64LE(32));
    const phentsize = elf.readUInt16LE(54);
    const types = Array.from({ length: elf.readUInt16LE(56) }, (_, i) => elf.readUInt32LE(phoff + i * phentsize));
    expect(types).toContain(1); // PT_LOAD
    expect(types).not.toContain(3); // PT_INTERP
  });
});

/**
 * linux.seccomp, checked by effect from inside real containers with test/probe/syscalls.c
 * (one attempt per syscall, in a child of its own), runts against runc (the oracle): podman's
 * default profile, every action, argument filters, flags, the filter's load point, notify
 * with a test agent (test/probe/seccomp-agent.c), and bad input.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BOTH, forceCleanup, leftovers, probeInfo, REPO, requireRoot, RT_RUNC, RT_RUNTS, type RunResult, type Runtime, runtime, uniqueId } from "../lib/harness";
import { type Bundle, makeBundle } from "../lib/rootfs";
import { podmanSeccomp } from "../lib/seccomp-profiles";

const containers: { rt: Runtime; id: string }[] = [];
const bundles: Bundle[] = [];
let work = "";
let syscallsBin = "";
let agentBin = "";
const agents: ChildProcess[] = [];

beforeAll(() => {
  requireRoot();
  work = mkdtempSync("/tmp/runts-seccomp-test-");
  syscallsBin = path.join(work, "syscalls");
  agentBin = path.join(work, "seccomp-agent");
  execFileSync("gcc", ["-static", "-O2", "-Wall", "-Wextra", "-o", syscallsBin, path.join(REPO, "test/probe/syscalls.c")]);
  execFileSync("gcc", ["-O2", "-Wall", "-Wextra", "-o", agentBin, path.join(REPO, "test/probe/seccomp-agent.c")]);
});

afterEach(() => {
  for (const { rt, id } of containers.splice(0)) forceCleanup(rt.bin, rt.root, id);
  for (const b of bundles.splice(0)) b.cleanup();
});

afterAll(() => {
  for (const a of agents) a.kill("SIGKILL");
  if (work) rmSync(work, { recursive: true, force: true });
});

const ALL = (): string[] => execFileSync(syscallsBin, ["list"], { encoding: "utf8" }).trim().split("\n");

/** A bundle with /bin/syscalls; bigints in the config are written as exact JSON numbers. */
function bundle(config: (c: any) => void): Bundle {
  const marked = (c: any) => {
    config(c);
    if (c.linux.seccomp) c.linux.seccomp = JSON.parse(JSON.stringify(c.linux.seccomp, (_, v) => (typeof v === "bigint" ? `@bigint:${v}` : v)));
  };
  const b = makeBundle({ config: marked });
  bundles.push(b);
  copyFileSync(syscallsBin, path.join(b.rootfs, "bin/syscalls"));
  const file = path.join(b.dir, "config.json");
  writeFileSync(file, readFileSync(file, "utf8").replace(/"@bigint:(\d+)"/g, "$1"));
  return b;
}

function newId(rt: Runtime): string {
  const id = uniqueId("sc");
  containers.push({ rt, id });
  return id;
}

interface Ran {
  r: RunResult;
  id: string;
}

/** `<rt> run` of a container whose process is `args` under seccomp `seccomp`. */
function run(rt: Runtime, seccomp: unknown, args: string[], more?: (c: any) => void): Ran {
  const b = bundle((c) => {
    c.process.args = args;
    if (seccomp !== undefined) c.linux.seccomp = seccomp;
    more?.(c);
  });
  const id = newId(rt);
  return { r: runtime(rt.bin, ["--root", rt.root, "run", "--bundle", b.dir, id]), id };
}

/** The syscalls program's verdicts, name -> "ok" | "errno N" | "trap" | "signal N". */
function verdicts(rt: Runtime, seccomp: unknown, names: string[], more?: (c: any) => void): Record<string, string> {
  const { r } = run(rt, seccomp, ["/bin/syscalls", ...names], more);
  expect({ runtime: rt.name, code: r.code, stderr: r.stderr }).toEqual({ runtime: rt.name, code: 0, stderr: expect.any(String) });
  return JSON.parse(r.stdout);
}

function expectNoLeftovers(): void {
  for (const { rt, id } of containers) expect({ id, leftovers: leftovers(id, rt.root) }).toEqual({ id, leftovers: [] });
}

const allow = (extra: object = {}) => ({ defaultAction: "SCMP_ACT_ALLOW", ...extra });

describe("podman's default profile", () => {
  for (const nnp of [false, true]) {
    test(`same verdicts under runts and runc for every probe syscall (noNewPrivileges ${nnp})`, () => {
      expect(existsSync("/usr/share/containers/seccomp.json")).toBe(true);
      const names = ALL();
      const profile = (c: any) => podmanSeccomp(c.process.capabilities.bounding);
      const [runc, runts] = BOTH.map((rt) =>
        verdicts(rt, undefined, names, (c) => {
          c.linux.seccomp = profile(c);
          c.process.noNewPrivileges = nnp;
        }),
      );
      expect(runts).toEqual(runc!);
      // The profile is really there: calls it denies pass (and fail for their own reasons) without it.
      const open = verdicts(RT_RUNTS, undefined, names);
      expect(runts!.add_key).toBe("errno 38");
      expect(open.add_key).toBe("errno 14");
      expect(runts!.personality_svr4).toBe("errno 38");
      expect(open.personality_svr4).toBe("ok");
      expect(runts!.io_uring_setup).toBe("errno 38");
      expect(open.io_uring_setup).toBe("errno 14");
    });
  }

  test("without its defaultErrnoRet (EPERM then), syscalls newer than the profile get ENOSYS, as runc's stub gives", () => {
    const names = ["getpid", "add_key", "futex_waitv", "futex_waitv_x86", "io_uring_setup"];
    const [runc, runts] = BOTH.map((rt) =>
      verdicts(rt, undefined, names, (c) => {
        c.linux.seccomp = podmanSeccomp(c.process.capabilities.bounding);
        delete c.linux.seccomp.defaultErrnoRet;
      }),
    );
    expect(runts).toEqual({ getpid: "ok", add_key: "errno 1", futex_waitv: "errno 38", futex_waitv_x86: "errno 38", io_uring_setup: "errno 1" });
    expect(runts).toEqual(runc!);
  });

  test("the init shows a filter in /proc/self/status, as under runc", () => {
    const [runc, runts] = BOTH.map((rt) => {
      const { r } = run(rt, undefined, ["/bin/probe", "info"], (c) => (c.linux.seccomp = podmanSeccomp(c.process.capabilities.bounding)));
      expect({ rt: rt.name, code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
      return probeInfo(r.stdout);
    });
    expect(runts!.seccomp).toBe(2);
    expect(runts!.seccompFilters).toBe(runc!.seccompFilters);
  });
});

describe("actions", () => {
  test("each action has its effect, as under runc", () => {
    const profile = allow({
      syscalls: [
        { names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 13 },
        { names: ["uname"], action: "SCMP_ACT_ERRNO" },
        { names: ["chmod"], action: "SCMP_ACT_KILL" },
        { names: ["umount2"], action: "SCMP_ACT_KILL_THREAD" },
        { names: ["mkdirat"], action: "SCMP_ACT_KILL_PROCESS" },
        { names: ["reboot"], action: "SCMP_ACT_TRAP" },
        { names: ["acct"], action: "SCMP_ACT_TRACE" },
        { names: ["setns"], action: "SCMP_ACT_LOG" },
        { names: ["add_key"], action: "SCMP_ACT_ALLOW" },
      ],
    });
    const names = ["getpid", "mkdir", "uname", "chmod", "umount2", "mkdirat", "reboot", "acct", "setns", "add_key"];
    const [runc, runts] = BOTH.map((rt) => verdicts(rt, profile, names));
    expect(runts).toEqual({
      getpid: "ok",
      mkdir: "errno 13",
      uname: "errno 1", // ERRNO without errnoRet: EPERM
      chmod: "signal 31", // SIGSYS
      umount2: "signal 31",
      mkdirat: "signal 31",
      reboot: "trap",
      acct: "errno 38", // TRACE without a tracer: ENOSYS
      setns: "errno 9", // LOG: let through (and logged)
      add_key: "errno 14",
    });
    expect(runts).toEqual(runc!);
  });

  test("defaultAction with defaultErrnoRet applies to every syscall without a rule", () => {
    const profile = podmanSeccomp([]);
    (profile as any).defaultErrnoRet = 95;
    const [runc, runts] = BOTH.map((rt) => verdicts(rt, profile, ["add_key", "getpid", "personality_svr4"]));
    expect(runts).toEqual({ add_key: "errno 95", getpid: "ok", personality_svr4: "errno 95" });
    expect(runts).toEqual(runc!);
  });

  test("x86 and x32 syscalls are filtered through their architectures", () => {
    const rule = { syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 77 }] };
    const names = ["getpid", "mkdir", "getpid_x86", "mkdir_x86", "getpid_x32", "mkdir_x32"];
    for (const architectures of [["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], ["SCMP_ARCH_X86_64"]]) {
      const [runc, runts] = BOTH.map((rt) => verdicts(rt, allow({ architectures, ...rule }), names));
      expect(runts).toEqual(runc!);
      expect(runts!.mkdir).toBe("errno 77");
      // Without x86 in the filter, an x86 syscall is a bad arch: the process is killed.
      expect(runts!.mkdir_x86).toBe(architectures.length > 1 ? "errno 77" : "signal 31");
      expect(runts!.getpid_x86).toBe(architectures.length > 1 ? "ok" : "signal 31");
    }
  });
});

/** Seccomp audit records (type=1326) of /bin/syscalls in the kernel log (no auditd here) matching what. */
function auditRecords(what: RegExp): number {
  const log = execFileSync("dmesg", { encoding: "utf8" });
  return log.split("\n").filter((l) => l.includes("type=1326") && l.includes('exe="/bin/syscalls"') && what.test(l)).length;
}

/**
 * Runs attempt until it reports its record in the kernel log: printk's rate limit (10
 * records per 5 s) drops audit records after the KILL records earlier tests make.
 */
function loggedWithin(attempt: () => boolean): boolean {
  for (let i = 0; i < 3; i++) {
    if (attempt()) return true;
    Bun.sleepSync(5_500);
  }
  return false;
}

describe("the audit log", () => {
  test("SCMP_ACT_LOG lets the syscall through and logs it; so does runc", () => {
    for (const rt of BOTH) {
      const logged = loggedWithin(() => {
        const before = auditRecords(/ syscall=308 .*code=0x7ffc0000/);
        expect(verdicts(rt, allow({ syscalls: [{ names: ["setns"], action: "SCMP_ACT_LOG" }] }), ["setns"])).toEqual({ setns: "errno 9" });
        return auditRecords(/ syscall=308 .*code=0x7ffc0000/) > before;
      });
      expect({ rt: rt.name, logged }).toEqual({ rt: rt.name, logged: true });
    }
  });

  test("SECCOMP_FILTER_FLAG_LOG logs the other actions too (an ERRNO here); without it they are not logged", () => {
    // The record's code is the action without its data (0x50000 for any ERRNO): the syscall tells the two runs apart.
    const errnoLogged = (nr: number) => auditRecords(new RegExp(` syscall=${nr} .*code=0x50000$`));
    const withFlag = loggedWithin(() => {
      const before = errnoLogged(90);
      expect(verdicts(RT_RUNTS, allow({ flags: ["SECCOMP_FILTER_FLAG_LOG"], syscalls: [{ names: ["chmod"], action: "SCMP_ACT_ERRNO", errnoRet: 123 }] }), ["chmod"])).toEqual({ chmod: "errno 123" });
      return errnoLogged(90) > before;
    });
    const before = errnoLogged(63);
    expect(verdicts(RT_RUNTS, allow({ flags: [], syscalls: [{ names: ["uname"], action: "SCMP_ACT_ERRNO", errnoRet: 124 }] }), ["uname"])).toEqual({ uname: "errno 124" });
    expect({ withFlag, without: errnoLogged(63) > before }).toEqual({ withFlag: true, without: false });
  });
});

describe("argument filters", () => {
  test("every operator, several args ANDed, the same arg ORed, 64-bit values; on x86 as well", () => {
    const profile = allow({
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      syscalls: [
        // personality: only PER_LINUX (0) passes.
        { names: ["personality"], action: "SCMP_ACT_ERRNO", errnoRet: 22, args: [{ index: 0, op: "SCMP_CMP_NE", value: 0 }] },
        // socket: AF_NETLINK and NETLINK_AUDIT (two args, ANDed) -> 93
        { names: ["socket"], action: "SCMP_ACT_ERRNO", errnoRet: 93, args: [{ index: 0, op: "SCMP_CMP_EQ", value: 16 }, { index: 2, op: "SCMP_CMP_EQ", value: 9 }] },
        // keyctl: (operation & 0xff) == KEYCTL_GET_KEYRING_ID (value is the mask, valueTwo the datum)
        { names: ["keyctl"], action: "SCMP_ACT_ERRNO", errnoRet: 97, args: [{ index: 0, op: "SCMP_CMP_MASKED_EQ", value: 0xff, valueTwo: 0 }] },
        // unshare: NEWUSER or NEWNET (two conditions on arg 0: ORed, as runc does)
        { names: ["unshare"], action: "SCMP_ACT_ERRNO", errnoRet: 71, args: [{ index: 0, op: "SCMP_CMP_EQ", value: 0x10000000 }, { index: 0, op: "SCMP_CMP_EQ", value: 0x40000000 }] },
        // setns(-1): fd as a 64-bit value above 2^64-2 (exact only if not rounded by JSON.parse)
        { names: ["setns"], action: "SCMP_ACT_ERRNO", errnoRet: 34, args: [{ index: 0, op: "SCMP_CMP_GT", value: 18446744073709551614n }] },
        { names: ["mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 35, args: [{ index: 2, op: "SCMP_CMP_EQ", value: 0o700 }, { index: 2, op: "SCMP_CMP_EQ", value: 0o755 }] },
        { names: ["syslog"], action: "SCMP_ACT_ERRNO", errnoRet: 36, args: [{ index: 0, op: "SCMP_CMP_LT", value: 11 }] },
      ],
    });
    const names = [
      "personality_linux",
      "personality_query",
      "personality_linux32",
      "personality_svr4",
      "personality_svr4_x86",
      "socket_inet",
      "socket_netlink_route",
      "socket_netlink_audit",
      "socket_packet",
      "keyctl",
      "unshare_user",
      "unshare_net",
      "unshare_mount",
      "setns",
      "mkdirat",
      "syslog",
    ];
    const [runc, runts] = BOTH.map((rt) => verdicts(rt, profile, names));
    expect(runts).toMatchObject({
      personality_linux: "ok",
      personality_query: "errno 22",
      personality_linux32: "errno 22",
      personality_svr4: "errno 22",
      personality_svr4_x86: "errno 22",
      socket_inet: "ok",
      socket_netlink_route: "ok",
      socket_netlink_audit: "errno 93",
      keyctl: "errno 97",
      mkdirat: "errno 35",
      unshare_user: "errno 71",
      unshare_net: "errno 71",
      setns: "errno 34",
      syslog: "errno 36",
    });
    expect(runts!.unshare_mount).not.toBe("errno 71");
    expect(runts).toEqual(runc!);
  });
});

describe("flags", () => {
  // runc 1.1.5 knows no flags field ("seccomp flags are not yet supported"); without one it
  // loads with SPEC_ALLOW, as current runc does. This host's SSB mitigation is "prctl", where
  // seccomp does not change the speculation state, so the flags are checked by the kernel
  // accepting them (an unknown or inconsistent flag is EINVAL); LOG by its effect in "the
  // audit log" below.
  test("without a flags field the speculation state is runc's", () => {
    const [runc, runts] = BOTH.map((rt) => {
      const { r } = run(rt, allow(), ["/bin/grep", "-E", "^(Speculation_Store_Bypass|Seccomp):", "/proc/self/status"]);
      expect({ rt: rt.name, code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
      return r.stdout;
    });
    expect(runts).toEqual(runc!);
    expect(runts).toContain("Seccomp:\t2");
  });

  test("every flag is accepted by the kernel, alone and all together with a notify rule", () => {
    const all = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"];
    for (const flags of [[], ...all.map((f) => [f])]) {
      const v = verdicts(RT_RUNTS, allow({ flags, syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 5 }] }), ["mkdir"]);
      expect({ flags, v }).toEqual({ flags, v: { mkdir: "errno 5" } });
    }
    const { sock, states } = startAgent(40);
    const v = verdicts(RT_RUNTS, notifyProfile(sock, { flags: [...all, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] }), ["mkdir", "getpid"]);
    expect(v).toEqual({ mkdir: "errno 40", getpid: "ok" });
    expect(readFileSync(states, "utf8")).toContain('"seccompFd"');
  });
});

describe("load point", () => {
  // Syscalls of runts-init's own setup (mounts, pivot_root, hostname, devices, namespaces).
  const setup = ["mount", "umount2", "pivot_root", "sethostname", "setdomainname", "mknod", "mknodat", "open_tree", "move_mount", "mount_setattr", "fsopen", "fsmount", "unshare", "setns", "clone3", "chroot"];
  for (const nnp of [false, true]) {
    test(`a profile that denies the init's setup syscalls still starts the container (noNewPrivileges ${nnp})`, () => {
      const profile = allow({ syscalls: [{ names: setup, action: "SCMP_ACT_ERRNO", errnoRet: 1 }] });
      for (const rt of BOTH) {
        const v = verdicts(rt, profile, ["getpid", "mount", "unshare_mount"], (c) => {
          c.process.noNewPrivileges = nnp;
          c.hostname = "filtered";
        });
        expect({ rt: rt.name, v }).toEqual({ rt: rt.name, v: { getpid: "ok", mount: "errno 1", unshare_mount: "errno 1" } });
      }
    });
  }

  test("a profile that denies execve fails start with a clear error, and delete leaves nothing", () => {
    const profile = allow({ syscalls: [{ names: ["execve", "execveat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }] });
    for (const nnp of [false, true]) {
      const b = bundle((c) => {
        c.linux.seccomp = profile;
        c.process.noNewPrivileges = nnp;
      });
      const id = newId(RT_RUNTS);
      const created = runtime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "create", "--bundle", b.dir, id]);
      expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: "" });
      const started = runtime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "start", id]);
      expect(started.code).not.toBe(0);
      expect(started.stderr).toMatch(/exec "\/bin\/probe".*seccomp.*operation not permitted/);
      expect(runtime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "delete", "--force", id]).code).toBe(0);
    }
    expectNoLeftovers();
  });
});

function startAgent(errno: number): { sock: string; states: string } {
  const sock = path.join(work, `agent-${agents.length}.sock`);
  const states = path.join(work, `agent-${agents.length}.states`);
  const a = spawn(agentBin, [sock, String(errno), states], { stdio: "inherit" });
  agents.push(a);
  for (let i = 0; i < 200 && !existsSync(sock); i++) Bun.sleepSync(10);
  expect(existsSync(sock)).toBe(true);
  return { sock, states };
}

const notifyProfile = (sock: string, extra: object = {}) =>
  allow({ listenerPath: sock, listenerMetadata: "agent-meta", syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY" }], ...extra });

describe("notify", () => {
  for (const nnp of [false, true]) {
    test(`the agent gets the notify fd with the container state as from runc, and answers mkdir (noNewPrivileges ${nnp})`, () => {
      const { sock, states } = startAgent(42);
      const byRt = BOTH.map((rt) => {
        const { r, id } = run(rt, notifyProfile(sock), ["/bin/syscalls", "getpid", "mkdir", "mkdirat", "chmod"], (c) => (c.process.noNewPrivileges = nnp));
        expect({ rt: rt.name, code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
        return { v: JSON.parse(r.stdout), id };
      });
      const [runc, runts] = byRt;
      expect(runts!.v).toEqual({ getpid: "ok", mkdir: "errno 42", mkdirat: "errno 42", chmod: "errno 2" });
      expect(runts!.v).toEqual(runc!.v);
      const sent = readFileSync(states, "utf8").trim().split("\n").map((l) => JSON.parse(l));
      expect(sent.length).toBe(2);
      const shape = (s: any) => ({
        keys: Object.keys(s).sort(),
        fds: s.fds,
        metadata: s.metadata,
        pidIsInit: s.pid === s.state.pid && s.pid > 0,
        state: { status: s.state.status, keys: Object.keys(s.state).sort() },
      });
      expect(shape(sent[1])).toEqual(shape(sent[0]));
      expect([sent[0].state.id, sent[1].state.id]).toEqual([byRt[0]!.id, byRt[1]!.id]);
      expect(sent[1].fds).toEqual(["seccompFd"]);
      expect(sent[1].metadata).toBe("agent-meta");
      expect(sent[1].state.status).toBe("creating");
    });
  }

  test("a missing listener socket is a create error naming listenerPath, leaving nothing", () => {
    const b = bundle((c) => (c.linux.seccomp = notifyProfile(path.join(work, "no-agent.sock"))));
    const id = newId(RT_RUNTS);
    const r = runtime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "create", "--bundle", b.dir, id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("linux.seccomp.listenerPath");
    expect(r.stderr).toContain("no-agent.sock");
    expectNoLeftovers();
  });
});

/** A running container under seccomp (its process pauses), for exec. */
function running(rt: Runtime, seccomp: unknown): string {
  const b = bundle((c) => {
    c.process.args = ["/bin/probe", "pause"];
    c.linux.seccomp = seccomp;
  });
  const id = newId(rt);
  const created = runtime(rt.bin, ["--root", rt.root, "create", "--bundle", b.dir, id]);
  expect({ rt: rt.name, code: created.code, stderr: created.stderr }).toMatchObject({ code: 0 });
  expect(runtime(rt.bin, ["--root", rt.root, "start", id]).code).toBe(0);
  return id;
}

describe("exec", () => {
  test("an exec'd process gets the container's filter, with and without --no-new-privs, as under runc", () => {
    const profile = allow({ syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }, { names: ["chroot"], action: "SCMP_ACT_KILL" }] });
    const [runc, runts] = BOTH.map((rt) => {
      const id = running(rt, profile);
      return ["", "--no-new-privs"].map((flag) => {
        const r = runtime(rt.bin, ["--root", rt.root, "exec", ...(flag ? [flag] : []), id, "/bin/syscalls", "getpid", "mkdir", "chroot"]);
        expect({ rt: rt.name, flag, code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
        return JSON.parse(r.stdout);
      });
    });
    expect(runts).toEqual([
      { getpid: "ok", mkdir: "errno 13", chroot: "signal 31" },
      { getpid: "ok", mkdir: "errno 13", chroot: "signal 31" },
    ]);
    expect(runts).toEqual(runc!);
  });

  test("an exec'd process's notify fd goes to the agent with its own pid and the state \"running\", as from runc", () => {
    const { sock, states } = startAgent(43);
    const sent = BOTH.map((rt) => {
      const id = running(rt, notifyProfile(sock));
      const r = runtime(rt.bin, ["--root", rt.root, "exec", id, "/bin/syscalls", "mkdir", "getpid"]);
      expect({ rt: rt.name, code: r.code, stderr: r.stderr, out: r.stdout.trim() }).toEqual({ rt: rt.name, code: 0, stderr: "", out: '{"mkdir":"errno 43","getpid":"ok"}' });
      return id;
    });
    const lines = readFileSync(states, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    // create's message, then exec's, for each runtime
    expect(lines.map((l) => [l.state.id, l.state.status])).toEqual([
      [sent[0], "creating"],
      [sent[0], "running"],
      [sent[1], "creating"],
      [sent[1], "running"],
    ]);
    for (const i of [1, 3]) {
      expect(lines[i].pid).not.toBe(lines[i].state.pid);
      expect(lines[i].state.pid).toBe(lines[i - 1].pid);
      expect(lines[i].metadata).toBe("agent-meta");
    }
  });
});

describe("unknown syscall names", () => {
  test("are warned about and skipped, as runc skips them", () => {
    const profile = allow({ syscalls: [{ names: ["no_such_syscall", "mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }] });
    const [runc, runts] = BOTH.map((rt) => run(rt, profile, ["/bin/syscalls", "mkdir"]).r);
    expect(runts!.code).toBe(0);
    expect(JSON.parse(runts!.stdout)).toEqual({ mkdir: "errno 13" });
    expect(runts!.stdout).toBe(runc!.stdout);
    expect(runts!.stderr).toContain('linux.seccomp.syscalls[0].names[0]: unknown syscall "no_such_syscall"');
  });
});

describe("bad input", () => {
  const cases: [string, unknown, RegExp][] = [
    ["unknown action", allow({ syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_EXPLODE" }] }), /\/linux\/seccomp\/syscalls\/0\/action: .*SCMP_ACT_EXPLODE/],
    ["unknown default action", { defaultAction: "SCMP_ACT_NOPE" }, /\/linux\/seccomp\/defaultAction: .*SCMP_ACT_NOPE/],
    ["unknown architecture", allow({ architectures: ["SCMP_ARCH_VAX"] }), /\/linux\/seccomp\/architectures\/0: .*SCMP_ARCH_VAX/],
    ["an architecture libseccomp 2.5 lacks", allow({ architectures: ["SCMP_ARCH_LOONGARCH64"] }), /linux\.seccomp\.architectures\[0\].*loongarch64.*not supported/],
    ["unknown operator", allow({ syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, op: "SCMP_CMP_ABOUT", value: 1 }] }] }), /\/linux\/seccomp\/syscalls\/0\/args\/0\/op: .*SCMP_CMP_ABOUT/],
    ["a 7th argument", allow({ syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", args: [{ index: 6, op: "SCMP_CMP_EQ", value: 1 }] }] }), /linux\.seccomp\.syscalls\[0\]\.args\[0\]\.index: 6 is out of range/],
    ["errnoRet out of range", allow({ syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 5000 }] }), /linux\.seccomp\.syscalls\[0\]\.errnoRet: 5000 is out of range/],
    ["defaultErrnoRet out of range", { defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 70000 }, /linux\.seccomp\.defaultErrnoRet: 70000 is out of range/],
    ["listenerPath without NOTIFY", allow({ listenerPath: "/run/agent.sock" }), /linux\.seccomp\.listenerPath: set, but no rule uses SCMP_ACT_NOTIFY/],
    ["NOTIFY without listenerPath", allow({ syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }] }), /linux\.seccomp\.listenerPath: required with SCMP_ACT_NOTIFY/],
    ["NOTIFY as the default action", { defaultAction: "SCMP_ACT_NOTIFY", listenerPath: "/run/agent.sock" }, /linux\.seccomp\.defaultAction: SCMP_ACT_NOTIFY cannot be the default/],
  ];
  for (const [what, seccomp, message] of cases) {
    test(`${what}: create fails naming the field and leaves nothing`, () => {
      const b = bundle((c) => (c.linux.seccomp = seccomp));
      const id = newId(RT_RUNTS);
      const r = runtime(RT_RUNTS.bin, ["--root", RT_RUNTS.root, "create", "--bundle", b.dir, id]);
      expect({ code: r.code === 0 ? 0 : 1, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(message) });
      expectNoLeftovers();
    });
  }

  test("runc refuses the same inputs (where 1.1.5 checks them)", () => {
    // runc 1.1.5 accepts an errnoRet it truncates to 16 bits, and a listenerPath no rule uses.
    for (const [what, seccomp] of cases.filter(([w]) => /unknown|7th|NOTIFY without|default action/.test(w))) {
      const b = bundle((c) => (c.linux.seccomp = seccomp));
      const id = newId(RT_RUNC);
      const r = runtime(RT_RUNC.bin, ["--root", RT_RUNC.root, "run", "--bundle", b.dir, id]);
      expect({ what, failed: r.code !== 0 }).toEqual({ what, failed: true });
    }
  });
});

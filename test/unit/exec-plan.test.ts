import { describe, expect, test } from "bun:test";
import type { HostFacts } from "../../src/plan/facts.ts";
import {
  containerNamespaceFlags,
  execCgroupDir,
  MAX_ID,
  planExec,
  processFromFile,
  processFromFlags,
  type ExecContext,
  type ExecFlags,
} from "../../src/plan/exec.ts";
import { CLONE_FLAGS } from "../../src/plan/namespaces.ts";
import { fakeFacts } from "../lib/plan-context.ts";
import { defaultSpec } from "../../src/spec/defaultSpec.ts";
import type { Process, Spec } from "../../src/spec/types.ts";
import { parseAndCheck } from "../../src/spec/validate.ts";

const facts = (passwd?: string): HostFacts => fakeFacts({}, passwd);

const container = (): Spec => {
  const s = defaultSpec() as unknown as Spec;
  s.process!.terminal = false;
  s.process!.rlimits = [{ type: "RLIMIT_NOFILE", soft: 100, hard: 200 }];
  return s;
};

const flags = (over: Partial<ExecFlags> = {}): ExecFlags => ({ args: ["/bin/true"], env: [], additionalGids: [], caps: [], ...over });

const ctx = (over: Partial<ExecContext> = {}): ExecContext => ({
  initPid: 1234,
  initStartTime: "5678",
  cgroupDir: "/sys/fs/cgroup/c",
  rootfs: "/b/rootfs",
  foreground: true,
  listenFds: 0,
  preserveFds: 0,
  facts: facts(),
  ...over,
});

describe("processFromFlags (runc's exec flags over the container's process)", () => {
  test("args replace, --env appends, --cwd replaces, terminal only with --tty", () => {
    const c = container();
    const p = processFromFlags(c.process, flags({ args: ["sh", "-c", "x"], env: ["A=1"], cwd: "/tmp" }));
    expect(p.args).toEqual(["sh", "-c", "x"]);
    expect(p.env).toEqual([...c.process!.env!, "A=1"]);
    expect(p.cwd).toBe("/tmp");
    expect(p.terminal).toBe(false);
    expect(processFromFlags({ ...c.process!, terminal: true }, flags()).terminal).toBe(false);
    expect(processFromFlags(c.process, flags({ tty: true })).terminal).toBe(true);
    expect(c.process!.args).not.toEqual(["sh", "-c", "x"]); // the container's process is not changed
  });
  test("--user uid[:gid] and --additional-gids (appended)", () => {
    const c = container();
    c.process!.user = { uid: 0, gid: 0, additionalGids: [10] };
    expect(processFromFlags(c.process, flags({ user: "1000" })).user).toEqual({ uid: 1000, gid: 0, additionalGids: [10] });
    const p = processFromFlags(c.process, flags({ user: "1000:1001", additionalGids: ["5", "7"] }));
    expect(p.user).toEqual({ uid: 1000, gid: 1001, additionalGids: [10, 5, 7] });
    expect(c.process!.user.additionalGids).toEqual([10]);
  });
  test("ids must be numeric and within 0..2147483647", () => {
    const c = container();
    expect(processFromFlags(c.process, flags({ user: `${MAX_ID}:${MAX_ID}` })).user.uid).toBe(MAX_ID);
    for (const user of ["nobody", "-1", `${MAX_ID + 1}`, "4294967295", "1:2:3", "1:", "1.5"]) {
      expect(() => processFromFlags(c.process, flags({ user }))).toThrow(/--user/);
    }
    expect(() => processFromFlags(c.process, flags({ additionalGids: ["2147483648"] }))).toThrow(/--additional-gids: "2147483648" is not a numeric id in 0\.\.2147483647/);
  });
  test("--cap adds to bounding, effective and permitted, never inheritable (CVE-2022-29162) or ambient; --no-new-privs overrides only when given", () => {
    const c = container();
    const p = processFromFlags(c.process, flags({ caps: ["CAP_SYS_ADMIN"] }));
    for (const set of ["bounding", "effective", "permitted"] as const) expect(p.capabilities![set]).toContain("CAP_SYS_ADMIN");
    for (const set of ["inheritable", "ambient"] as const) expect(p.capabilities![set] ?? []).not.toContain("CAP_SYS_ADMIN");
    expect(processFromFlags(c.process, flags()).noNewPrivileges).toBe(c.process!.noNewPrivileges);
    expect(processFromFlags(c.process, flags({ noNewPrivs: false })).noNewPrivileges).toBe(false);
  });
  test("refuses no command and a relative --cwd", () => {
    expect(() => processFromFlags(container().process, flags({ args: [] }))).toThrow(/no command given/);
    expect(() => processFromFlags(container().process, flags({ cwd: "tmp" }))).toThrow(/--cwd: must be an absolute path/);
  });
});

describe("processFromFile (runc's newInitConfig defaults)", () => {
  const file: Process = { cwd: "/", args: ["/bin/true"], user: { uid: 1, gid: 1 } };
  test("what the file leaves out comes from the container", () => {
    const c = container();
    c.process!.user.umask = 0o077;
    c.process!.scheduler = { policy: "SCHED_BATCH" };
    const p = processFromFile(c.process, file);
    expect(p.capabilities).toEqual(c.process!.capabilities!);
    expect(p.rlimits).toEqual(c.process!.rlimits!);
    expect(p.noNewPrivileges).toBeUndefined(); // runc: the file's alone
    expect(p.scheduler).toEqual({ policy: "SCHED_BATCH" });
    expect(p.user).toEqual({ uid: 1, gid: 1, umask: 0o077 });
  });
  test("what the file says wins", () => {
    const p = processFromFile(container().process, { ...file, noNewPrivileges: false, capabilities: {}, rlimits: [{ type: "RLIMIT_CORE", soft: 0, hard: 0 }] });
    expect(p.noNewPrivileges).toBe(false);
    expect(p.capabilities).toEqual({});
    expect(p.rlimits).toEqual([{ type: "RLIMIT_CORE", soft: 0, hard: 0 }]);
  });
  test("the process schema names the bad field", () => {
    const bad = (v: unknown) => {
      const r = parseAndCheck("process", JSON.stringify(v));
      return r.ok ? "" : r.error;
    };
    expect(bad(file)).toBe("");
    expect(bad({ ...file, cwd: "rel" })).toMatch(/^process\.json: \/cwd: /);
    expect(bad({ ...file, args: [] })).toMatch(/^process\.json: \/args: /);
    expect(bad({ ...file, user: { uid: "x", gid: 0 } })).toMatch(/^process\.json: \/user\/uid: /);
    expect(bad({ ...file, rlimits: [{ type: "RLIMIT_NOFILE", soft: 1 }] })).toMatch(/^process\.json: \/rlimits\/0: missing required property "hard"/);
  });
});

describe("execCgroupDir (--cgroup)", () => {
  test("the container's cgroup, or a sub-cgroup of it", () => {
    expect(execCgroupDir("/sys/fs/cgroup/c", [])).toBe("/sys/fs/cgroup/c");
    expect(execCgroupDir("/sys/fs/cgroup/c", ["sub/x"])).toBe("/sys/fs/cgroup/c/sub/x");
    expect(execCgroupDir("/sys/fs/cgroup/c", ["/sub"])).toBe("/sys/fs/cgroup/c/sub");
  });
  test("refuses escapes, v1 controller lists and more than one", () => {
    expect(() => execCgroupDir("/c", ["../x"])).toThrow(/not a sub-cgroup/);
    expect(() => execCgroupDir("/c", ["/"])).toThrow(/not a sub-cgroup/);
    expect(() => execCgroupDir("/c", ["cpu:/x"])).toThrow(/cgroup v1/);
    expect(() => execCgroupDir("/c", ["a", "b"])).toThrow(/more than once/);
  });
});

describe("planExec", () => {
  test("JOIN first with every namespace of the container, then the process ops, EXEC last; no mounts", () => {
    const c = container();
    c.linux!.namespaces = [{ type: "pid" }, { type: "mount" }, { type: "network", path: "/proc/1/ns/net" }, { type: "user" }, { type: "cgroup" }];
    const p = processFromFlags(c.process, flags());
    const plan = planExec(c, p, ctx());
    const names = plan.ops.map((o) => o.op);
    expect(names[0]).toBe("JOIN");
    expect(plan.ops[0]!.args.slice(0, 5)).toEqual([
      CLONE_FLAGS.pid | CLONE_FLAGS.mount | CLONE_FLAGS.network | CLONE_FLAGS.user | CLONE_FLAGS.cgroup,
      "/sys/fs/cgroup/c",
      1234,
      "5678",
      1,
    ]);
    expect(names.slice(1)).toEqual(["RLIMIT", "USER", "UMASK", "CAPS", "CHDIR", "NO_NEW_PRIVS", "LOOKUP", "EXEC"]);
    for (const n of ["CLONE", "ROOTFS", "MOUNT", "BIND", "PIVOT_ROOT", "READY", "WAIT_START", "MKNOD"]) expect(names).not.toContain(n);
    expect(containerNamespaceFlags(c)).toBe(plan.ops[0]!.args[0] as number);
  });
  test("detached: JOIN says not foreground; --pidfd-socket is a parent-side op named setns, as runc's", () => {
    const c = container();
    const plan = planExec(c, processFromFlags(c.process, flags()), ctx({ foreground: false, pidfdSocket: "/tmp/s" }));
    expect(plan.ops[0]!.args[4]).toBe(0);
    expect(plan.ops[1]).toEqual({ op: "PIDFD_SOCKET", args: ["/tmp/s", "setns"] });
  });
  test("listen fds: LISTEN_FDS in the env, LISTEN_PID set by the process itself, and passed with the preserved fds", () => {
    const c = container();
    const plan = planExec(c, processFromFlags(c.process, flags()), ctx({ listenFds: 2, preserveFds: 1 }));
    const exec = plan.ops.at(-1)!;
    expect(plan.ops.at(-2)!.op).toBe("LISTEN_PID");
    expect(exec.op).toBe("EXEC");
    expect(exec.args[0]).toBe(3);
    expect(exec.args).toContain("LISTEN_FDS=2");
    expect(exec.args).toContain("LISTEN_PID=");
  });
  test("execCPUAffinity: initial in JOIN (before the cgroup), final just before EXEC", () => {
    const c = container();
    c.process!.execCPUAffinity = { initial: "0", final: "1" };
    const plan = planExec(c, processFromFlags(c.process, flags()), ctx());
    expect((plan.ops[0]!.args[5] as Uint8Array)[0]).toBe(1);
    expect(plan.ops.at(-2)!.op).toBe("AFFINITY");
    expect((plan.ops.at(-2)!.args[0] as Uint8Array)[0]).toBe(2);
  });
  test("LSM labels are refused, not dropped", () => {
    const c = container();
    const p = processFromFlags(c.process, flags());
    expect(() => planExec(c, { ...p, apparmorProfile: "x" }, ctx())).toThrow(/^config\.json: process\.apparmorProfile: AppArmor profiles are not supported by runts yet$/);
    expect(() => planExec(c, { ...p, selinuxLabel: "x" }, ctx())).toThrow(/process\.selinuxLabel: SELinux labels are not supported/);
  });
  test("HOME from the image's passwd for the process's user unless the env sets it", () => {
    const c = container();
    const passwd = "root:x:0:0::/root:/bin/sh\ntester:x:1000:1000::/home/tester:/bin/sh\n";
    const plan = planExec(c, processFromFlags(c.process, flags({ user: "1000" })), ctx({ facts: facts(passwd) }));
    expect(plan.ops.at(-1)!.args).toContain("HOME=/home/tester");
    const own = planExec(c, processFromFlags(c.process, flags({ env: ["HOME=/x"] })), ctx({ facts: facts(passwd) }));
    expect(own.ops.at(-1)!.args).toContain("HOME=/x");
    expect(own.ops.at(-1)!.args).not.toContain("HOME=/root");
  });
});

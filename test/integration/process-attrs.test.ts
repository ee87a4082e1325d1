/**
 * process.* and the per-process parts of linux.* (sysctl, personality), checked from inside
 * real containers with `probe info`, runts against runc (the oracle) where runc 1.1.5 knows
 * the field. runc 1.1.5 predates process.scheduler, ioPriority, execCPUAffinity,
 * linux.personality and domainname: those are checked against the spec and the kernel ABI.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  leftovers,
  type ProbeInfo,
  type RlimitValue,
  RT_RUNC,
  RT_RUNTS,
  type Runtime,
  runtime,
} from "../lib/harness";
import { type Bundle } from "../lib/rootfs";
import { type Ran, infoOf, testScope } from "../lib/scope";

const scope = testScope("pa");
const { newBundle, run, expectNoLeftovers, newId } = scope;

// ---------------------------------------------------------------------------------------------
// Local helpers.

function runInfo(rt: Runtime, config?: (c: any) => void, prep?: (b: Bundle) => void): ProbeInfo {
  return infoOf(run(rt, config, prep));
}

/** `<rt> create`; the caller checks the result. */
function create(rt: Runtime, config?: (c: any) => void): Ran {
  const bundle = newBundle({ config });
  const id = newId(rt);
  const r = runtime(rt.bin, ["--root", rt.root, "create", "--bundle", bundle.dir, id]);
  return { r, id, bundle };
}

/** Capability numbers (linux/capability.h), written out here rather than taken from src/. */
const CAP: Record<string, number> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_FOWNER: 3,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_NICE: 23,
  CAP_SYS_TIME: 25,
  CAP_AUDIT_WRITE: 29,
};

function mask(names: string[]): bigint {
  let m = 0n;
  for (const n of names) {
    const bit = CAP[n];
    if (bit === undefined) throw new Error(`test bug: no number for ${n}`);
    m |= 1n << BigInt(bit);
  }
  return m;
}

const hex = (m: bigint): string => m.toString(16).padStart(16, "0");

/** CAP_AUDIT_WRITE | CAP_KILL | CAP_NET_BIND_SERVICE: what `runc spec` grants. */
const DEFAULT_CAPS = mask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);

/**
 * Adds CAP_DAC_OVERRIDE to effective/permitted/bounding. Tests of other features that run as a
 * non-root user use it so that they do not depend on the bug "a non-root user without
 * CAP_DAC_OVERRIDE cannot be started", which has its own test below.
 */
function withDacOverride(c: any): void {
  for (const set of ["bounding", "effective", "permitted"]) c.process.capabilities[set].push("CAP_DAC_OVERRIDE");
}

/** Placeholder replaced by the literal 18446744073709551615 in config.json (JSON.stringify cannot write it). */
const RLIM_INFINITY_PLACEHOLDER = "__RLIM_INFINITY__";
function writeRlimInfinity(b: Bundle): void {
  const p = path.join(b.dir, "config.json");
  writeFileSync(p, readFileSync(p, "utf8").replaceAll(`"${RLIM_INFINITY_PLACEHOLDER}"`, "18446744073709551615"));
}

/** /proc/PID/limits rows (in RLIMIT_* order, see getrlimit(2)) by their RLIMIT_* name. */
const LIMITS_ROWS: Record<string, string> = {
  "Max cpu time": "RLIMIT_CPU",
  "Max file size": "RLIMIT_FSIZE",
  "Max data size": "RLIMIT_DATA",
  "Max stack size": "RLIMIT_STACK",
  "Max core file size": "RLIMIT_CORE",
  "Max resident set": "RLIMIT_RSS",
  "Max processes": "RLIMIT_NPROC",
  "Max open files": "RLIMIT_NOFILE",
  "Max locked memory": "RLIMIT_MEMLOCK",
  "Max address space": "RLIMIT_AS",
  "Max file locks": "RLIMIT_LOCKS",
  "Max pending signals": "RLIMIT_SIGPENDING",
  "Max msgqueue size": "RLIMIT_MSGQUEUE",
  "Max nice priority": "RLIMIT_NICE",
  "Max realtime priority": "RLIMIT_RTPRIO",
  "Max realtime timeout": "RLIMIT_RTTIME",
};

function procLimits(text: string): Record<string, { soft: RlimitValue; hard: RlimitValue }> {
  const value = (v: string): RlimitValue => (v === "unlimited" ? v : Number(v));
  const out: Record<string, { soft: RlimitValue; hard: RlimitValue }> = {};
  for (const line of text.split("\n").slice(1)) {
    const m = /^(Max .+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const name = LIMITS_ROWS[m[1]!];
    if (!name) throw new Error(`unknown /proc/self/limits row ${JSON.stringify(m[1])}`);
    out[name] = { soft: value(m[2]!), hard: value(m[3]!) };
  }
  return out;
}

/** The Cpus_allowed_list value of a /proc/PID/status text. */
function cpusAllowed(status: string): string {
  return /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? `(no Cpus_allowed_list in ${JSON.stringify(status)})`;
}

// ---------------------------------------------------------------------------------------------

describe("process attributes", () => {

  // ---- user ----------------------------------------------------------------------------------

  test("process.user: uid, gid, additionalGids and umask of a non-root user with the default capabilities", () => {
    const cfg = (c: any) => {
      c.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 65534], umask: 0o027 };
    };
    const oracle = runInfo(RT_RUNC, cfg);
    expect(oracle.uid).toBe(1000);
    const info = runInfo(RT_RUNTS, cfg);
    expect(info.uid).toBe(1000);
    expect(info.euid).toBe(1000);
    expect(info.gid).toBe(1000);
    expect(info.egid).toBe(1000);
    expect(info.groups).toEqual([5, 65534]);
    expect(info.umask).toBe("0027");
    expect({ uid: info.uid, gid: info.gid, groups: info.groups, umask: info.umask, caps: info.caps }).toEqual({
      uid: oracle.uid,
      gid: oracle.gid,
      groups: oracle.groups,
      umask: oracle.umask,
      caps: oracle.caps,
    });
    expectNoLeftovers();
  });

  test("process.user: root with additionalGids, default umask 0022", () => {
    const info = runInfo(RT_RUNTS, (c) => {
      c.process.user = { uid: 0, gid: 0, additionalGids: [1000, 5] };
    });
    expect(info.uid).toBe(0);
    expect(info.gid).toBe(0);
    expect([...info.groups].sort((a, b) => a - b)).toEqual([5, 1000]);
    expect(info.umask).toBe("0022");
    expectNoLeftovers();
  });

  // ---- env, PATH lookup, cwd, HOME ------------------------------------------------------------

  test("process.env is passed exactly (plus HOME) and args[0] without a slash is found through the container's PATH", () => {
    const cfg = (c: any) => {
      c.process.args = ["probe", "info"];
      c.process.env = ["PATH=/nope:/also-not-here:/bin", "FOO=bar baz", "EMPTY=", "EQ=a=b"];
    };
    const oracle = runInfo(RT_RUNC, cfg);
    const info = runInfo(RT_RUNTS, cfg);
    expect(info.exe).toBe("/bin/probe");
    expect(info.env).toEqual(["PATH=/nope:/also-not-here:/bin", "FOO=bar baz", "EMPTY=", "EQ=a=b", "HOME=/root"]);
    expect(info.env).toEqual(oracle.env);
    expectNoLeftovers();
  });

  test("args[0] that is not in the container's PATH fails the run with a message naming it", () => {
    const cfg = (c: any) => {
      c.process.args = ["no-such-program-xyz"];
    };
    const oracle = run(RT_RUNC, cfg);
    expect(oracle.r.code).not.toBe(0);
    const ran = run(RT_RUNTS, cfg);
    expect(ran.r.code).not.toBe(0);
    expect(ran.r.stderr).toContain("no-such-program-xyz");
    expectNoLeftovers();
  });

  test("process.cwd that the rootfs lacks is created (read-only root) inside the rootfs", () => {
    const cfg = (c: any) => {
      c.process.cwd = "/work/dir";
    };
    const oracle = runInfo(RT_RUNC, cfg);
    expect(oracle.cwd).toBe("/work/dir");
    const ran = run(RT_RUNTS, cfg);
    const info = infoOf(ran);
    expect(info.cwd).toBe("/work/dir");
    expect(statSync(path.join(ran.bundle.rootfs, "work/dir")).isDirectory()).toBe(true);
    expect(existsSync("/work/dir")).toBe(false);
    expectNoLeftovers();
  });

  test("HOME comes from the image's /etc/passwd as runc sets it (uid 0, 1000, 65534, unknown uid), an explicit HOME wins", () => {
    const cases: { user: { uid: number; gid: number }; env?: string[]; home: string }[] = [
      { user: { uid: 0, gid: 0 }, home: "/root" },
      { user: { uid: 1000, gid: 1000 }, home: "/home/tester" },
      { user: { uid: 65534, gid: 65534 }, home: "/nonexistent" },
      { user: { uid: 4321, gid: 4321 }, home: "/" },
      { user: { uid: 1000, gid: 1000 }, env: ["PATH=/bin", "HOME=/custom"], home: "/custom" },
    ];
    for (const k of cases) {
      const cfg = (c: any) => {
        c.process.user = k.user;
        if (k.env) c.process.env = k.env;
        withDacOverride(c);
      };
      const homes = [RT_RUNC, RT_RUNTS].map((rt) => runInfo(rt, cfg).env.filter((e) => e.startsWith("HOME=")));
      expect({ uid: k.user.uid, runc: homes[0], runts: homes[1] }).toEqual({
        uid: k.user.uid,
        runc: [`HOME=${k.home}`],
        runts: [`HOME=${k.home}`],
      });
    }
    expectNoLeftovers();
  });

  // ---- capabilities ----------------------------------------------------------------------------

  test("capabilities: the default spec gives exactly runc's sets (bnd=prm=eff=0x20000420, inh=amb=0)", () => {
    const oracle = runInfo(RT_RUNC);
    const info = runInfo(RT_RUNTS);
    expect(info.caps).toEqual({ inh: hex(0n), prm: hex(DEFAULT_CAPS), eff: hex(DEFAULT_CAPS), bnd: hex(DEFAULT_CAPS), amb: hex(0n) });
    expect(info.caps).toEqual(oracle.caps);
    expectNoLeftovers();
  });

  // After execve: root (with noNewPrivileges) keeps permitted as the runtime set it and gets
  // effective = permitted, so a config with effective == permitted is seen exactly; a non-root
  // user without file capabilities gets permitted = effective = ambient. Bounding and
  // inheritable stay as configured.
  const CAP_CASES = [
    {
      name: "root, all five sets exactly as configured",
      user: undefined,
      sets: {
        bounding: ["CAP_KILL", "CAP_NET_RAW", "CAP_CHOWN", "CAP_SYS_TIME", "CAP_SETUID", "CAP_AUDIT_WRITE"],
        effective: ["CAP_KILL", "CAP_NET_RAW", "CAP_CHOWN"],
        permitted: ["CAP_KILL", "CAP_NET_RAW", "CAP_CHOWN"],
        inheritable: ["CAP_NET_RAW", "CAP_CHOWN"],
        ambient: ["CAP_NET_RAW"],
      },
    },
    {
      name: "non-root user with ambient capabilities (in inheritable and permitted) keeps them across execve",
      user: { uid: 1000, gid: 1000 },
      sets: {
        bounding: ["CAP_KILL", "CAP_NET_RAW", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_SYS_TIME"],
        effective: ["CAP_KILL", "CAP_NET_RAW", "CAP_DAC_OVERRIDE"],
        permitted: ["CAP_KILL", "CAP_NET_RAW", "CAP_CHOWN", "CAP_DAC_OVERRIDE"],
        inheritable: ["CAP_NET_RAW", "CAP_CHOWN", "CAP_DAC_OVERRIDE"],
        ambient: ["CAP_NET_RAW", "CAP_DAC_OVERRIDE"],
      },
    },
    {
      name: "non-root user with ambient capabilities but without CAP_DAC_OVERRIDE",
      user: { uid: 1000, gid: 1000 },
      sets: {
        bounding: ["CAP_KILL", "CAP_NET_RAW", "CAP_CHOWN"],
        effective: ["CAP_KILL", "CAP_NET_RAW"],
        permitted: ["CAP_KILL", "CAP_NET_RAW", "CAP_CHOWN"],
        inheritable: ["CAP_NET_RAW", "CAP_CHOWN"],
        ambient: ["CAP_NET_RAW"],
      },
    },
  ];

  for (const { name, user, sets } of CAP_CASES) {
    test(`capabilities: ${name}`, () => {
      const cfg = (c: any) => {
        if (user) c.process.user = user;
        c.process.capabilities = structuredClone(sets);
      };
      const oracle = runInfo(RT_RUNC, cfg);
      const info = runInfo(RT_RUNTS, cfg);
      if (user) expect(info.uid).toBe(user.uid);
      const gained = user ? sets.ambient : undefined;
      expect(info.caps).toEqual({
        inh: hex(mask(sets.inheritable)),
        prm: hex(mask(gained ?? sets.permitted)),
        eff: hex(mask(gained ?? sets.effective)),
        bnd: hex(mask(sets.bounding)),
        amb: hex(mask(sets.ambient)),
      });
      expect(info.caps).toEqual(oracle.caps);
      expectNoLeftovers();
    });
  }

  test("capabilities: an unknown capability name fails create with an error naming process.capabilities.<set>[i]", () => {
    for (const [set, index] of [
      ["bounding", 3],
      ["effective", 0],
      ["permitted", 1],
      ["inheritable", 0],
      ["ambient", 2],
    ] as const) {
      const ran = create(RT_RUNTS, (c) => {
        const list: string[] = [...(c.process.capabilities[set] ?? [])].slice(0, index);
        while (list.length < index) list.push("CAP_KILL");
        list.push("CAP_NO_SUCH_THING");
        c.process.capabilities[set] = list;
      });
      expect({ set, code: ran.r.code === 0 ? 0 : "failed" }).toEqual({ set, code: "failed" });
      expect(ran.r.stderr).toContain(`process.capabilities.${set}[${index}]`);
      expect(ran.r.stderr).toContain("CAP_NO_SUCH_THING");
      expect(leftovers(ran.id, RT_RUNTS.root)).toEqual([]);
    }
    expectNoLeftovers();
  });

  // ---- rlimits -------------------------------------------------------------------------------

  test("rlimits: NOFILE, NPROC, CORE, MSGQUEUE, STACK are set exactly (and as runc sets them)", () => {
    const limits = [
      { type: "RLIMIT_NOFILE", soft: 4096, hard: 8192 },
      { type: "RLIMIT_NPROC", soft: 500, hard: 1000 },
      { type: "RLIMIT_CORE", soft: 1024, hard: 4096 },
      { type: "RLIMIT_MSGQUEUE", soft: 1000, hard: 2000 },
      { type: "RLIMIT_STACK", soft: 4194304, hard: 16777216 },
    ];
    const cfg = (c: any) => {
      c.process.rlimits = structuredClone(limits);
    };
    const oracle = runInfo(RT_RUNC, cfg);
    const info = runInfo(RT_RUNTS, cfg);
    for (const l of limits) {
      expect({ type: l.type, value: info.rlimits[l.type] }).toEqual({ type: l.type, value: { soft: l.soft, hard: l.hard } });
    }
    expect(info.rlimits).toEqual(oracle.rlimits);
    expectNoLeftovers();
  });

  test("rlimits: all 16 RLIMIT_* types, read back from /proc/self/limits, as runc sets them", () => {
    // Raising a hard limit needs CAP_SYS_RESOURCE, which root lacks on this test host: every
    // wanted value is capped at the test process's hard limit (runts and runc inherit it).
    const current = procLimits(readFileSync("/proc/self/limits", "utf8"));
    const wanted: Record<string, [number, number]> = {
      RLIMIT_CPU: [1000, 2000],
      RLIMIT_FSIZE: [2 ** 30, 2 ** 31],
      RLIMIT_DATA: [2 ** 30, 2 ** 31],
      RLIMIT_STACK: [4194304, 16777216],
      RLIMIT_CORE: [1024, 4096],
      RLIMIT_RSS: [2 ** 30, 2 ** 31],
      RLIMIT_NPROC: [500, 1000],
      RLIMIT_NOFILE: [4096, 8192],
      RLIMIT_MEMLOCK: [65536, 131072],
      RLIMIT_AS: [2 ** 32, 2 ** 33],
      RLIMIT_LOCKS: [1000, 2000],
      RLIMIT_SIGPENDING: [1000, 2000],
      RLIMIT_MSGQUEUE: [100000, 200000],
      RLIMIT_NICE: [10, 20],
      RLIMIT_RTPRIO: [5, 10],
      RLIMIT_RTTIME: [1000000, 2000000],
    };
    expect(Object.keys(current).sort()).toEqual(Object.keys(wanted).sort());
    const limits = Object.entries(wanted).map(([type, [soft, hard]]) => {
      const cap = current[type]!.hard;
      const h = cap === "unlimited" ? hard : Math.min(hard, cap);
      return { type, soft: Math.min(soft, h), hard: h };
    });
    const cfg = (c: any) => {
      c.process.args = ["/bin/probe", "read", "/proc/self/limits"];
      c.process.rlimits = structuredClone(limits);
    };
    const ran = run(RT_RUNTS, cfg);
    expect({ code: ran.r.code, stderr: ran.r.stderr }).toEqual({ code: 0, stderr: "" });
    const inside = procLimits(ran.r.stdout);
    expect(inside).toEqual(Object.fromEntries(limits.map((l) => [l.type, { soft: l.soft, hard: l.hard }])));
    const oracle = run(RT_RUNC, cfg);
    expect({ code: oracle.r.code, stderr: oracle.r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(inside).toEqual(procLimits(oracle.r.stdout));
    expectNoLeftovers();
  });

  test("rlimits: 18446744073709551615 (RLIM_INFINITY) in config.json is unlimited", () => {
    const cfg = (c: any) => {
      c.process.rlimits = [
        { type: "RLIMIT_CORE", soft: 0, hard: RLIM_INFINITY_PLACEHOLDER },
        { type: "RLIMIT_AS", soft: RLIM_INFINITY_PLACEHOLDER, hard: RLIM_INFINITY_PLACEHOLDER },
      ];
    };
    const oracle = runInfo(RT_RUNC, cfg, writeRlimInfinity);
    expect(oracle.rlimits.RLIMIT_CORE).toEqual({ soft: 0, hard: "unlimited" });
    const info = runInfo(RT_RUNTS, cfg, writeRlimInfinity);
    expect(info.rlimits.RLIMIT_CORE).toEqual({ soft: 0, hard: "unlimited" });
    expect(info.rlimits.RLIMIT_AS).toEqual({ soft: "unlimited", hard: "unlimited" });
    expectNoLeftovers();
  });

  test("rlimits: an unknown rlimit type fails create naming the field", () => {
    const cfg = (c: any) => {
      c.process.rlimits = [
        { type: "RLIMIT_NOFILE", soft: 1024, hard: 1024 },
        { type: "RLIMIT_BOGUS", soft: 1, hard: 1 },
      ];
    };
    const oracle = create(RT_RUNC, cfg);
    expect(oracle.r.code).not.toBe(0);
    const ran = create(RT_RUNTS, cfg);
    expect(ran.r.code).not.toBe(0);
    expect(ran.r.stderr).toContain("process.rlimits[1]");
    expect(ran.r.stderr).toContain("RLIMIT_BOGUS");
    expectNoLeftovers();
  });

  test("rlimits: RLIMIT_NOFILE above fs.nr_open fails like runc, with a message about the rlimit", () => {
    const nrOpen = Number(readFileSync("/proc/sys/fs/nr_open", "utf8").trim());
    const cfg = (c: any) => {
      c.process.rlimits = [{ type: "RLIMIT_NOFILE", soft: nrOpen + 1, hard: nrOpen + 1 }];
    };
    const oracle = run(RT_RUNC, cfg);
    expect(oracle.r.code).not.toBe(0);
    expect(oracle.r.stderr).toMatch(/rlimit/i);
    const ran = run(RT_RUNTS, cfg);
    expect(ran.r.code).not.toBe(0);
    expect(ran.r.stdout).toBe("");
    expect(ran.r.stderr).toMatch(/rlimit/i);
    expect(ran.r.stderr).toMatch(/operation not permitted|EPERM/);
    expectNoLeftovers();
  });

  // ---- no_new_privs, oom_score_adj, ioprio, scheduler, affinity, personality -------------------

  test("noNewPrivileges true and false", () => {
    for (const nnp of [true, false]) {
      const cfg = (c: any) => {
        c.process.noNewPrivileges = nnp;
      };
      const oracle = runInfo(RT_RUNC, cfg);
      const info = runInfo(RT_RUNTS, cfg);
      expect({ nnp, runts: info.noNewPrivs, runc: oracle.noNewPrivs }).toEqual({ nnp, runts: nnp ? 1 : 0, runc: nnp ? 1 : 0 });
    }
    expectNoLeftovers();
  });

  test("oomScoreAdj is applied", () => {
    // Only values >= the current one: lowering needs CAP_SYS_RESOURCE, which this test host
    // does not give even to root.
    for (const adj of [123, 1000]) {
      const cfg = (c: any) => {
        c.process.oomScoreAdj = adj;
      };
      const oracle = runInfo(RT_RUNC, cfg);
      const info = runInfo(RT_RUNTS, cfg);
      expect({ adj, runts: info.oomScoreAdj, runc: oracle.oomScoreAdj }).toEqual({ adj, runts: adj, runc: adj });
    }
    expectNoLeftovers();
  });

  test("ioPriority: class << 13 | priority", () => {
    for (const [cls, num, prio] of [
      ["IOPRIO_CLASS_BE", 2, 6],
      ["IOPRIO_CLASS_IDLE", 3, 0],
      ["IOPRIO_CLASS_RT", 1, 3],
    ] as const) {
      const info = runInfo(RT_RUNTS, (c) => {
        c.process.ioPriority = { class: cls, priority: prio };
      });
      expect({ cls, ioprio: info.ioprio }).toEqual({ cls, ioprio: (num << 13) | prio });
    }
    expectNoLeftovers();
  });

  test("scheduler: SCHED_BATCH with nice 5", () => {
    const info = runInfo(RT_RUNTS, (c) => {
      c.process.scheduler = { policy: "SCHED_BATCH", nice: 5 };
    });
    expect(info.sched.policy).toBe("SCHED_BATCH");
    expect(info.sched.nice).toBe(5);
    expect(info.nice).toBe(5);
    expectNoLeftovers();
  });

  test("scheduler: SCHED_FIFO priority 1 (root)", () => {
    const info = runInfo(RT_RUNTS, (c) => {
      c.process.scheduler = { policy: "SCHED_FIFO", priority: 1 };
    });
    expect(info.sched.policy).toBe("SCHED_FIFO");
    expect(info.sched.priority).toBe(1);
    expectNoLeftovers();
  });

  test("execCPUAffinity.final \"0\" pins the process to CPU 0", () => {
    const info = runInfo(RT_RUNTS, (c) => {
      c.process.execCPUAffinity = { final: "0" };
    });
    expect(info.cpus).toBe("0");
    expectNoLeftovers();
  });

  // The runtime-spec says execCPUAffinity "is not applicable to the container's init process"
  // (it is meant for exec); runts has no exec and applies it to the init. runc 1.1.5 predates
  // the field and ignores it: its container keeps the caller's affinity.
  for (const [initial, final] of [["0", undefined], ["0", "1"], ["1", "0"]] as const) {
    test(`execCPUAffinity initial ${initial}, final ${final ?? "absent"}: createContainer and startContainer hooks see initial, the process ${final ? "final" : "initial"}`, () => {
      const host = cpusAllowed(readFileSync("/proc/self/status", "utf8"));
      if (!/^0-[1-9]/.test(host)) throw new Error(`this test needs CPUs 0 and 1, the test process may use only ${host}`);
      const cpusTo = (file: string) => ["sh", "-c", `grep Cpus_allowed_list /proc/self/status > ${file}`];
      const cfg = (c: any) => {
        c.root.readonly = false;
        c.process.execCPUAffinity = final ? { initial, final } : { initial };
        c.hooks = {
          createContainer: [{ path: "/bin/sh", args: cpusTo("$HOOK_ROOTFS/cpus-createContainer") }],
          startContainer: [{ path: "/bin/sh", args: cpusTo("/cpus-startContainer") }],
        };
      };
      // createContainer runs before pivot_root: it reaches the rootfs by its host path.
      const withRootfs = (b: Bundle) => {
        b.config.hooks.createContainer[0].env = [`HOOK_ROOTFS=${b.rootfs}`];
        b.write();
      };
      const ran = run(RT_RUNTS, cfg, withRootfs);
      const info = infoOf(ran);
      const seen = (hook: string) => cpusAllowed(readFileSync(path.join(ran.bundle.rootfs, `cpus-${hook}`), "utf8"));
      expect({ createContainer: seen("createContainer"), startContainer: seen("startContainer"), process: info.cpus }).toEqual({
        createContainer: initial,
        startContainer: initial,
        process: final ?? initial,
      });
      const oracle = runInfo(RT_RUNC, (c) => {
        c.process.execCPUAffinity = final ? { initial, final } : { initial };
      });
      expect(oracle.cpus).toBe(host);
      expectNoLeftovers();
    });
  }

  test("linux.personality LINUX32", () => {
    const info = runInfo(RT_RUNTS, (c) => {
      c.linux.personality = { domain: "LINUX32" };
    });
    expect(info.personality).toBe(8);
    const plain = runInfo(RT_RUNTS);
    expect(plain.personality).toBe(0);
    expectNoLeftovers();
  });

  // ---- sysctl, hostname, domainname ------------------------------------------------------------

  test("linux.sysctl: net.ipv4.ip_forward and kernel.shmmax are set in the container only", () => {
    const hostForward = readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8");
    const hostShmmax = readFileSync("/proc/sys/kernel/shmmax", "utf8");
    const cfg = (c: any) => {
      c.process.args = ["/bin/sh", "-c", "/bin/probe sysctl net.ipv4.ip_forward && /bin/probe sysctl kernel.shmmax"];
      c.linux.sysctl = { "net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789" };
    };
    const oracle = run(RT_RUNC, cfg);
    expect(oracle.r.stdout).toBe("1\n123456789\n");
    const ran = run(RT_RUNTS, cfg);
    expect({ code: ran.r.code, stderr: ran.r.stderr }).toMatchObject({ code: 0 });
    expect(ran.r.stdout).toBe("1\n123456789\n");
    expect(readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8")).toBe(hostForward);
    expect(readFileSync("/proc/sys/kernel/shmmax", "utf8")).toBe(hostShmmax);
    expectNoLeftovers();
  });

  test("linux.sysctl: a host-global key (kernel.panic) is refused, naming the key, and the host is unchanged", () => {
    const hostPanic = readFileSync("/proc/sys/kernel/panic", "utf8");
    const cfg = (c: any) => {
      c.linux.sysctl = { "net.ipv4.ip_forward": "1", "kernel.panic": hostPanic.trim() === "7" ? "8" : "7" };
    };
    const oracle = create(RT_RUNC, cfg);
    expect(oracle.r.code).not.toBe(0);
    expect(oracle.r.stderr).toContain("kernel.panic");
    const ran = create(RT_RUNTS, cfg);
    expect(ran.r.code).not.toBe(0);
    expect(ran.r.stderr).toContain("kernel.panic");
    expect(readFileSync("/proc/sys/kernel/panic", "utf8")).toBe(hostPanic);
    expectNoLeftovers();
  });

  test("linux.sysctl: a namespaced key without its namespace (net.* with the host's network) is refused, host unchanged", () => {
    const hostForward = readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8");
    const cfg = (c: any) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== "network");
      c.linux.sysctl = { "net.ipv4.ip_forward": hostForward.trim() === "1" ? "0" : "1" };
    };
    const oracle = create(RT_RUNC, cfg);
    expect(oracle.r.code).not.toBe(0);
    expect(oracle.r.stderr).toContain("net.ipv4.ip_forward");
    const ran = create(RT_RUNTS, cfg);
    expect(ran.r.code).not.toBe(0);
    expect(ran.r.stderr).toMatch(/linux\.sysctl.*net\.ipv4\.ip_forward.*network namespace/);
    expect(readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8")).toBe(hostForward);
    expectNoLeftovers();
  });

  test("hostname and domainname", () => {
    const hostHostname = readFileSync("/proc/sys/kernel/hostname", "utf8");
    const hostDomain = readFileSync("/proc/sys/kernel/domainname", "utf8");
    const cfg = (c: any) => {
      c.hostname = "box-1";
      c.domainname = "example.org";
    };
    const oracle = runInfo(RT_RUNC, cfg);
    expect(oracle.hostname).toBe("box-1");
    const info = runInfo(RT_RUNTS, cfg);
    expect(info.hostname).toBe("box-1");
    expect(info.domainname).toBe("example.org");
    expect(readFileSync("/proc/sys/kernel/hostname", "utf8")).toBe(hostHostname);
    expect(readFileSync("/proc/sys/kernel/domainname", "utf8")).toBe(hostDomain);
    expectNoLeftovers();
  });
});

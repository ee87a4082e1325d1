/**
 * containerd's io.containerd.runc.v2 shim (the path Kubernetes' CRI takes) with runts as the
 * runc binary, driven by ctr; every scenario also with runc in the same test, compared. Ends
 * with the fault test: containerd killed while it runs a container, restarted, and the
 * container removed with nothing left.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { type Runtime, waitFor } from "../lib/harness";
import { check, compareRuntimes as compare, IMAGE, MANAGED, managersSuite } from "../lib/managers";

const m = managersSuite("containerd", ["containerd"]);
let seq = 0;
function newId(rt: Runtime): string {
  const id = `c${++seq}-${rt.name}-${process.pid}`;
  m.sb.tracked.add(id);
  return id;
}

/** `ctr task ls` status of one task, e.g. "RUNNING", or "" when there is none. */
function taskStatus(id: string): string {
  const line = m.ctrd.ctrRaw(["tasks", "ls"]).stdout.split("\n").find((l) => l.split(/\s+/)[0] === id);
  return line?.trim().split(/\s+/)[2] ?? "";
}

describe("containerd (runc v2 shim) with runts as its runc binary, compared with runc", () => {
  test("ctr run --rm: output and exit codes", () => {
    const got = compare((rt) => {
      const r = m.ctrd.ctrRun(rt, ["--rm", IMAGE, newId(rt), "sh", "-c", "echo out; exit 5"]);
      const ok = m.ctrd.ctrRun(rt, ["--rm", IMAGE, newId(rt), "true"]);
      return { code: r.code, stdout: r.stdout, okCode: ok.code };
    });
    expect(got).toEqual({ code: 5, stdout: "out\n", okCode: 0 });
  });

  test("ctr run -d, task ps, pause/resume, kill, delete", async () => {
    const got = await Promise.all(
      MANAGED.map(async (rt) => {
        const id = newId(rt);
        check(m.ctrd.ctrRun(rt, ["-d", "--null-io", IMAGE, id, "sleep", "1000"]), `${rt.name}: ctr run -d`);
        const running = taskStatus(id);
        const ps = check(m.ctrd.ctrRaw(["tasks", "ps", id]), `${rt.name}: task ps`).stdout.trim().split("\n").length - 1;
        check(m.ctrd.ctrRaw(["tasks", "pause", id]), `${rt.name}: pause`);
        const paused = taskStatus(id);
        check(m.ctrd.ctrRaw(["tasks", "resume", id]), `${rt.name}: resume`);
        const resumed = taskStatus(id);
        check(m.ctrd.ctrRaw(["tasks", "kill", "--signal", "SIGKILL", id]), `${rt.name}: kill`);
        await waitFor(`${id} stopped`, () => taskStatus(id) === "STOPPED", 10_000);
        check(m.ctrd.ctrRaw(["tasks", "delete", id]), `${rt.name}: task delete`);
        check(m.ctrd.ctrRaw(["containers", "delete", id]), `${rt.name}: container delete`);
        return { running, ps, paused, resumed, after: taskStatus(id) };
      }),
    );
    expect(got[1]).toEqual(got[0]!);
    expect(got[1]).toEqual({ running: "RUNNING", ps: 1, paused: "PAUSED", resumed: "RUNNING", after: "" });
  });

  test("a command that does not exist: ctr shows the runtime's cause from log.json", () => {
    const ids = MANAGED.map(newId);
    const got = MANAGED.map((rt, i) => m.ctrd.ctrRun(rt, ["--rm", IMAGE, ids[i]!, "/nonexistent"]));
    for (const r of got) expect(r.code).not.toBe(0);
    expect(got[1]!.stderr).toContain("/nonexistent");
    expect(got[1]!.stderr).toContain("no such file or directory");
    for (const id of ids) m.ctrd.ctrRaw(["containers", "delete", id]);
  });

  test("fault: containerd killed while a container runs, restarted; the container is removed, nothing left", async () => {
    const rt = MANAGED[1]!;
    const id = newId(rt);
    check(m.ctrd.ctrRun(rt, ["-d", "--null-io", IMAGE, id, "sleep", "1000"]), "ctr run -d");
    await m.sb.killDaemon(m.ctrd.daemon!);
    await m.ctrd.start();
    expect(taskStatus(id)).toBe("RUNNING");
    check(m.ctrd.ctrRaw(["tasks", "delete", "--force", id]), "task delete --force");
    check(m.ctrd.ctrRaw(["containers", "delete", id]), "container delete");
    expect(readdirSync(m.sb.dir(`runtime-root/ctr-${rt.name}/${m.ctrd.ns}`))).toEqual([]);
    await waitFor("nothing left of the container", () => m.sb.leftovers().length === 0, 10_000).catch(() => {});
    expect(m.sb.leftovers()).toEqual([]);
  });
});

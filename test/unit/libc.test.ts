// src/libc.ts (bun:ffi on libc) against node:fs on the same files: the struct stat offsets,
// directory listing, whole-file reads of procfs, errors with their errno.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SysError } from "../../src/errors.ts";
import * as libc from "../../src/libc.ts";

const dir = mkdtempSync(path.join(tmpdir(), "runts-libc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("libc.ts", () => {
  test("stat and fstat give node's mode, uid and size", () => {
    const file = path.join(dir, "f");
    writeFileSync(file, "x".repeat(12345), { mode: 0o640 });
    for (const p of [file, dir, "/dev/null", "/proc/self/status"]) {
      const st = statSync(p);
      expect({ p, ...libc.stat(p) }).toEqual({ p, mode: st.mode, uid: st.uid, size: st.size });
    }
    const fd = libc.open(file, libc.O.RDONLY);
    try {
      expect(libc.fstat(fd)).toEqual({ mode: statSync(file).mode, uid: statSync(file).uid, size: 12345 });
    } finally {
      libc.close(fd);
    }
    expect(libc.stat(file).mode & libc.S_IFMT).toBe(libc.S_IFREG);
    expect(libc.stat(dir).mode & libc.S_IFMT).toBe(libc.S_IFDIR);
  });

  test("readText reads procfs files (size 0) to the end, like readFileSync", () => {
    expect(libc.readText("/proc/self/mountinfo").length).toBeGreaterThan(0);
    expect(libc.readText("/proc/cpuinfo")).toBe(readFileSync("/proc/cpuinfo", "utf8"));
    const big = path.join(dir, "big");
    writeFileSync(big, "y".repeat(100_000));
    expect(libc.readText(big)).toBe("y".repeat(100_000));
    expect(libc.readTextIfAny(path.join(dir, "missing"))).toBeUndefined();
  });

  test("listDir names every entry and which are directories, as readdirSync does", () => {
    for (const p of ["/proc/self", "/dev", dir]) {
      const ours = libc
        .listDir(p)
        .map((e) => `${e.name}:${e.dir}`)
        .sort();
      const node = readdirSync(p, { withFileTypes: true })
        .map((e) => `${e.name}:${e.isDirectory()}`)
        .sort();
      expect(ours).toEqual(node);
    }
  });

  test("mkdirAll, writeText (create, append), rename, readlink, removeTree", () => {
    const deep = path.join(dir, "a/b/c");
    libc.mkdirAll(deep, 0o755);
    libc.mkdirAll(deep, 0o755); // existing: fine
    expect(statSync(deep).isDirectory()).toBe(true);
    libc.mkdirAll(path.join(dir, "a/x/y/"), 0o700); // from an existing level, a trailing slash
    expect(statSync(path.join(dir, "a/x")).mode & 0o777).toBe(0o700);
    writeFileSync(path.join(dir, "file"), "");
    expect(() => libc.mkdirAll(path.join(dir, "file/sub/dir"), 0o755)).toThrow(/ENOTDIR/);
    const f = path.join(deep, "log");
    libc.writeText(f, "one\n");
    libc.writeText(f, "two\n", libc.O.WRONLY | libc.O.CREAT | libc.O.APPEND);
    expect(readFileSync(f, "utf8")).toBe("one\ntwo\n");
    libc.rename(f, path.join(deep, "log2"));
    symlinkSync("/nowhere", path.join(deep, "link"));
    expect(libc.readlink(path.join(deep, "link"))).toBe("/nowhere");
    expect(libc.exists(path.join(deep, "log2"))).toBe(true);
    libc.removeTree(path.join(dir, "a"));
    expect(libc.exists(path.join(dir, "a"))).toBe(false);
  });

  test("a failed call throws SysError with the syscall, the path and the errno", () => {
    const missing = path.join(dir, "nope");
    let err: unknown;
    try {
      libc.open(missing, libc.O.RDONLY);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SysError);
    expect((err as SysError).errno).toBe(2);
    expect((err as SysError).message).toBe(`open "${missing}": no such file or directory (ENOENT)`);
    expect(() => libc.rmdir(dir + "/nope")).toThrow(/rmdir .*ENOENT/);
    // Numbers with two names get the one strerror words (bpf(2)'s EAGAIN read EWOULDBLOCK).
    expect(new SysError("bpf", "", 11).message).toBe("bpf: resource temporarily unavailable (EAGAIN)");
    expect(new SysError("mount", "", 95).message).toBe("mount: operation not supported (EOPNOTSUPP)");
  });
});

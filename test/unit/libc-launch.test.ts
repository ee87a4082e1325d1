// The syscalls of starting runts-init in src/libc.ts (bun:ffi, no koffi): the sealed memfd,
// socketpair, fd origin, mkfifo and openat2 inside a root, against the kernel's own answers.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SysError } from "../../src/errors.ts";
import * as libc from "../../src/libc.ts";

const dir = mkdtempSync(path.join(tmpdir(), "runts-libc-launch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fdFlags = (fd: number) => readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");

describe("libc.ts: starting runts-init", () => {
  test("sealedMemfd: the image, close-on-exec, every seal set (no write, no resize)", () => {
    const fd = libc.sealedMemfd("runts-test", new TextEncoder().encode("image bytes"));
    try {
      expect(readFileSync(`/proc/self/fd/${fd}`, "utf8")).toBe("image bytes");
      expect(readlinkSync(`/proc/self/fd/${fd}`)).toBe("/memfd:runts-test (deleted)");
      expect(libc.fdOrigin(fd)).toBe("own");
      expect(() => writeSync(fd, "x")).toThrow(/EPERM|operation not permitted/i);
    } finally {
      libc.close(fd);
    }
  });

  test("socketPair: two connected close-on-exec unix stream sockets", () => {
    const [a, b] = libc.socketPair();
    try {
      expect(readlinkSync(`/proc/self/fd/${a}`)).toMatch(/^socket:\[\d+\]$/);
      expect([libc.fdOrigin(a), libc.fdOrigin(b)]).toEqual(["own", "own"]);
      libc.writeAll(a, new TextEncoder().encode("ping"));
      expect(new TextDecoder().decode(libc.readFull(b, 4))).toBe("ping");
      expect(fdFlags(a)).toMatch(/flags:\s+0?2\d{6}/);
    } finally {
      libc.close(a);
      libc.close(b);
    }
  });

  test("fdOrigin: inherited (no close-on-exec), own, closed", () => {
    const own = libc.open(path.join(dir), libc.O.RDONLY | libc.O.DIRECTORY);
    expect(libc.fdOrigin(own)).toBe("own");
    libc.close(own);
    expect(libc.fdOrigin(own)).toBe("closed");
    expect(libc.fdOrigin(2)).toBe("inherited"); // stderr came from the caller
  });

  test("mkfifo makes a FIFO (mode under the umask); an existing path is EEXIST", () => {
    const fifo = path.join(dir, "fifo");
    libc.mkfifo(fifo, 0o600);
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(() => libc.mkfifo(fifo, 0o600)).toThrow(SysError);
  });

  test("openInRoot: symlinks and .. resolve inside the root; a missing file is ENOENT", () => {
    const root = path.join(dir, "root");
    mkdirSync(path.join(root, "etc"), { recursive: true });
    writeFileSync(path.join(root, "etc/passwd"), "inside\n");
    symlinkSync("/etc/passwd", path.join(root, "abs-link"));
    symlinkSync("../../../../etc/passwd", path.join(root, "rel-link"));
    const rootFd = libc.open(root, libc.O.RDONLY | libc.O.DIRECTORY);
    try {
      for (const p of ["/etc/passwd", "abs-link", "/rel-link", "/../../etc/passwd"]) {
        const fd = libc.openInRoot(rootFd, p);
        try {
          expect({ p, text: new TextDecoder().decode(libc.readFull(fd, 100)) }).toEqual({ p, text: "inside\n" });
        } finally {
          libc.close(fd);
        }
      }
      expect(() => libc.openInRoot(rootFd, "/nope")).toThrow(/openat2 "\/nope".*ENOENT/);
    } finally {
      libc.close(rootFd);
    }
  });
});

/**
 * The container's filesystem: root.readonly, config mounts (tmpfs, bind, rbind, options,
 * recursive attributes, propagation), linux.rootfsPropagation, maskedPaths, readonlyPaths and
 * linux.devices, checked from inside real containers and against runc (the oracle).
 */
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  BOTH,
  hostMounts,
  type MountinfoEntry,
  probeInfo,
  type ProbeInfo,
  ROOTS,
  RT_RUNC,
  RT_RUNTS,
  runtime,
  RUNTS,
} from "../lib/harness";
import { type Bundle } from "../lib/rootfs";
import { expectOk, infoOf, mountsUnder, testScope } from "../lib/scope";
import { keyed, sh, tagged } from "../lib/script";

const scope = testScope("fs");
const { newBundle, hostDir, run, expectNoLeftovers, newId } = scope;

// ---------------------------------------------------------------------------------------------
// Local helpers.

/** A tmpfs mounted on a fresh host directory (with `options` added); shared (its own peer group) when asked. */
function hostTmpfs(prefix: string, shared: boolean, options = ""): { dir: string; peerGroup?: string } {
  const dir = hostDir(prefix);
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=1m,mode=0755${options ? `,${options}` : ""}`, "runts-test", dir]);
  if (shared) execFileSync("mount", ["--make-shared", dir]);
  const m = hostMounts().find((e) => e.mountPoint === dir);
  return { dir, peerGroup: m?.optional.find((o) => o.startsWith("shared:"))?.slice("shared:".length) };
}


const mountAt = (info: ProbeInfo, mp: string): MountinfoEntry | undefined => info.mounts.filter((m) => m.mountPoint === mp).pop();
const opts = (m: MountinfoEntry | undefined): string[] => (m ? m.options.split(",") : []);
const superOpts = (m: MountinfoEntry | undefined): string[] => (m ? m.superOptions.split(",") : []);


/** Per mount point: its sorted per-mount options and its superblock options, for comparing runtimes. */
function optionsAt(info: ProbeInfo, mps: string[]): Record<string, { options: string[]; superOptions: string[] } | undefined> {
  return Object.fromEntries(
    mps.map((mp) => {
      const m = mountAt(info, mp);
      return [mp, m && { options: opts(m).sort(), superOptions: superOpts(m).sort() }];
    }),
  );
}

/** Prints KEY=followed or KEY=refused: whether reading through the symlink `link` works. */
const followed = (key: string, link: string) => `if cat ${link} >/dev/null 2>&1; then echo ${key}=followed; else echo ${key}=refused; fi`;

const EROFS = "EROFS";

// ---------------------------------------------------------------------------------------------

describe("filesystem", () => {

  // ---- root ------------------------------------------------------------------------------------

  test("root.readonly true: writing / fails with EROFS; false: the write lands in the rootfs", () => {
    for (const readonly of [true, false]) {
      for (const rt of BOTH) {
        const ran = run(rt, (c) => {
          c.root.readonly = readonly;
          c.process.args = sh("w /x data");
        });
        expectOk(ran);
        expect({ rt: rt.name, readonly, out: ran.r.stdout.trim() }).toEqual({ rt: rt.name, readonly, out: readonly ? EROFS : "ok" });
        expect({ rt: rt.name, readonly, exists: existsSync(path.join(ran.bundle.rootfs, "x")) }).toEqual({
          rt: rt.name,
          readonly,
          exists: !readonly,
        });
      }
    }
    expectNoLeftovers();
  });

  // ---- mounts ----------------------------------------------------------------------------------

  test("tmpfs mount with size/mode and nosuid,nodev,noexec,relatime: options in mountinfo, mode on the directory", () => {
    const cfg = (c: any) => {
      c.mounts.push({ destination: "/t1", type: "tmpfs", source: "tmpfs", options: ["size=1m", "mode=0750", "nosuid", "nodev", "noexec", "relatime"] });
      c.process.args = sh("/bin/probe stat /t1; /bin/probe info");
    };
    for (const rt of BOTH) {
      const ran = run(rt, cfg);
      const info = infoOf(ran);
      const m = mountAt(info, "/t1");
      expect({ rt: rt.name, fsType: m?.fsType }).toEqual({ rt: rt.name, fsType: "tmpfs" });
      expect(opts(m)).toEqual(expect.arrayContaining(["rw", "nosuid", "nodev", "noexec", "relatime"]));
      expect(m!.superOptions.split(",")).toEqual(expect.arrayContaining(["size=1024k", "mode=750"]));
      const st = JSON.parse(ran.r.stdout.split("\n")[0]!)[0];
      expect({ rt: rt.name, type: st.type, mode: st.mode }).toEqual({ rt: rt.name, type: "dir", mode: "0750" });
    }
    expectNoLeftovers();
  });

  test("bind mount of a host directory: ro refuses writes (EROFS), rw writes through to the host", () => {
    for (const rt of BOTH) {
      const host = hostDir("bind");
      writeFileSync(path.join(host, "hello"), "from the host");
      const ran = run(rt, (c) => {
        c.mounts.push({ destination: "/b/ro", type: "bind", source: host, options: ["bind", "ro"] });
        c.mounts.push({ destination: "/b/rw", type: "bind", source: host, options: ["bind", "rw"] });
        c.process.args = sh(
          'echo "RO_READ=$(cat /b/ro/hello)"; echo "RO_WRITE=$(w /b/ro/new ro)"; echo "RW_WRITE=$(w /b/rw/new rw-data)"',
        );
      });
      expectOk(ran);
      expect(tagged(rt, ran.r.stdout)).toEqual({ rt: rt.name, RO_READ: "from the host", RO_WRITE: EROFS, RW_WRITE: "ok" });
      expect(readFileSync(path.join(host, "new"), "utf8")).toBe("rw-data\n");
    }
    expectNoLeftovers();
  });

  test("bind mount of a single host file (ro): content visible, writes refused, target created as a file", () => {
    for (const rt of BOTH) {
      const host = hostDir("file");
      const file = path.join(host, "config.txt");
      writeFileSync(file, "file content");
      const ran = run(rt, (c) => {
        c.root.readonly = false;
        c.mounts.push({ destination: "/etc/app/config.txt", type: "bind", source: file, options: ["bind", "ro"] });
        c.process.args = sh(
          'echo "READ=$(cat /etc/app/config.txt)"; echo "WRITE=$(w /etc/app/config.txt x)"; echo "STAT=$(/bin/probe stat /etc/app/config.txt)"',
        );
      });
      expectOk(ran);
      const k = keyed(ran.r.stdout);
      expect({ rt: rt.name, READ: k.READ, WRITE: k.WRITE }).toEqual({ rt: rt.name, READ: "file content", WRITE: EROFS });
      expect(JSON.parse(k.STAT!)[0].type).toBe("file");
      expect(readFileSync(file, "utf8")).toBe("file content");
      expect(statSync(path.join(ran.bundle.rootfs, "etc/app/config.txt")).isFile()).toBe(true);
    }
    expectNoLeftovers();
  });

  test("rbind carries the submounts of the source; bind does not", () => {
    for (const rt of BOTH) {
      const host = hostDir("rbind");
      mkdirSync(path.join(host, "sub"));
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "runts-test", path.join(host, "sub")]);
      writeFileSync(path.join(host, "sub", "marker"), "submount");
      const ran = run(rt, (c) => {
        c.mounts.push({ destination: "/r", type: "bind", source: host, options: ["rbind"] });
        c.mounts.push({ destination: "/nr", type: "bind", source: host, options: ["bind"] });
        c.process.args = sh('echo "R=$(cat /r/sub/marker 2>&1)"; echo "NR=$(ls -A /nr/sub | wc -l)"');
      });
      expectOk(ran);
      expect(tagged(rt, ran.r.stdout)).toEqual({ rt: rt.name, R: "submount", NR: "0" });
    }
    expectNoLeftovers();
  });

  test("bind mount options nosuid,nodev,noexec,relatime (and ro) show in mountinfo", () => {
    for (const rt of BOTH) {
      const host = hostDir("opts");
      const info = infoOf(
        run(rt, (c) => {
          c.mounts.push({ destination: "/o", type: "bind", source: host, options: ["rbind", "nosuid", "nodev", "noexec", "relatime", "ro"] });
        }),
      );
      expect({ rt: rt.name, options: opts(mountAt(info, "/o")).sort() }).toEqual({
        rt: rt.name,
        options: ["nodev", "noexec", "nosuid", "relatime", "ro"],
      });
    }
    expectNoLeftovers();
  });

  test("rro makes the bind mount and its submounts read-only", () => {
    for (const rt of BOTH) {
      const host = hostDir("rro");
      mkdirSync(path.join(host, "sub"));
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "runts-test", path.join(host, "sub")]);
      const ran = run(rt, (c) => {
        c.mounts.push({ destination: "/rro", type: "bind", source: host, options: ["rbind", "rro"] });
        c.process.args = sh('echo "TOP=$(w /rro/x 1)"; echo "SUB=$(w /rro/sub/x 1)"; /bin/probe info');
      });
      const info = infoOf({ ...ran, r: { ...ran.r, stdout: ran.r.stdout.split("\n").filter((l) => l.startsWith("{")).join("\n") } });
      expect(tagged(rt, ran.r.stdout)).toEqual({ rt: rt.name, TOP: EROFS, SUB: EROFS });
      expect(opts(mountAt(info, "/rro"))).toContain("ro");
      expect(opts(mountAt(info, "/rro/sub"))).toContain("ro");
      // the host's mounts stay writable
      expect(existsSync(path.join(host, "x"))).toBe(false);
      writeFileSync(path.join(host, "sub", "host-write"), "still rw");
    }
    expectNoLeftovers();
  });

  test("recursive attributes on an rbind with a submount: the bind and its submount both carry them, as under runc", () => {
    const table: [string, (o: string[]) => boolean][] = [
      ["rro", (o) => o.includes("ro")],
      ["rnosuid", (o) => o.includes("nosuid")],
      ["rnodev", (o) => o.includes("nodev")],
      ["rnoexec", (o) => o.includes("noexec")],
      ["rnosymfollow", (o) => o.includes("nosymfollow")],
      ["rnodiratime", (o) => o.includes("nodiratime")],
      ["rnoatime", (o) => o.includes("noatime")],
      ["rrelatime", (o) => o.includes("relatime")],
      ["rstrictatime", (o) => !o.includes("noatime") && !o.includes("relatime")],
    ];
    // The source is noatime and its submount strictatime, so that every atime mode shows.
    const src = hostTmpfs("rattr", false, "noatime");
    mkdirSync(path.join(src.dir, "sub"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m,strictatime", "runts-test", path.join(src.dir, "sub")]);
    const mps = table.flatMap(([opt]) => [`/r/${opt}`, `/r/${opt}/sub`]);
    const seen = BOTH.map((rt) => {
      const info = infoOf(
        run(rt, (c) => {
          for (const [opt] of table) c.mounts.push({ destination: `/r/${opt}`, type: "bind", source: src.dir, options: ["rbind", opt] });
        }),
      );
      return optionsAt(info, mps);
    });
    for (const [opt, carries] of table) {
      for (const mp of [`/r/${opt}`, `/r/${opt}/sub`]) {
        const options = seen[1]![mp]?.options ?? [];
        expect({ mp, options, carries: carries(options) }).toEqual({ mp, options, carries: true });
      }
    }
    expect(seen[1]).toEqual(seen[0]!);
    expectNoLeftovers();
  });

  test("per-mount options on a tmpfs (nosymfollow, atime modes, sync, dirsync, lazytime, iversion, silent, acl): as under runc", () => {
    const table: [string, (m: MountinfoEntry) => boolean][] = [
      ["nosymfollow", (m) => opts(m).includes("nosymfollow")],
      ["noatime", (m) => opts(m).includes("noatime")],
      ["strictatime", (m) => !opts(m).includes("noatime") && !opts(m).includes("relatime")],
      ["relatime", (m) => opts(m).includes("relatime")],
      ["nodiratime", (m) => opts(m).includes("nodiratime")],
      ["sync", (m) => superOpts(m).includes("sync")],
      ["dirsync", (m) => superOpts(m).includes("dirsync")],
      ["lazytime", (m) => superOpts(m).includes("lazytime")],
      // mount flags, not filesystem data (which tmpfs would refuse): the mount simply works
      ["iversion", (m) => m.fsType === "tmpfs"],
      ["silent", (m) => m.fsType === "tmpfs"],
      ["acl", (m) => m.fsType === "tmpfs"],
    ];
    const mps = table.map(([opt]) => `/o/${opt}`);
    const seen = BOTH.map((rt) => {
      const ran = run(rt, (c) => {
        for (const [opt] of table) c.mounts.push({ destination: `/o/${opt}`, type: "tmpfs", source: "tmpfs", options: ["size=1m", opt] });
        c.process.args = sh(`ln -s /etc/passwd /o/nosymfollow/l; ln -s /etc/passwd /o/noatime/l; ${followed("NOSYMFOLLOW", "/o/nosymfollow/l")}; ${followed("OTHER", "/o/noatime/l")}; /bin/probe info`);
      });
      const info = infoOf(ran);
      for (const [opt, shows] of table) {
        const m = mountAt(info, `/o/${opt}`);
        expect({ rt: rt.name, opt, mount: m, shows: m !== undefined && shows(m) }).toMatchObject({ rt: rt.name, opt, shows: true });
      }
      expect(tagged(rt, ran.r.stdout)).toEqual({ rt: rt.name, NOSYMFOLLOW: "refused", OTHER: "followed" });
      return optionsAt(info, mps);
    });
    expect(seen[1]).toEqual(seen[0]!);
    expectNoLeftovers();
  });

  test("per-mount options on binds of an ext4 directory: flags as under runc; sync, dirsync, lazytime cannot change a bind's superblock", () => {
    const host = hostDir("bindopts");
    writeFileSync(path.join(host, "target"), "data");
    const list = ["nosymfollow", "noatime", "strictatime", "relatime", "sync", "dirsync", "lazytime"];
    const mps = list.map((o) => `/o/${o}`);
    const seen = BOTH.map((rt) => {
      const ran = run(rt, (c) => {
        for (const opt of list) c.mounts.push({ destination: `/o/${opt}`, type: "bind", source: host, options: ["bind", opt] });
        c.process.args = sh(`ln -sf target /o/sync/l; ${followed("NOSYMFOLLOW", "/o/nosymfollow/l")}; ${followed("OTHER", "/o/sync/l")}; /bin/probe info`);
      });
      const info = infoOf(ran);
      expect(tagged(rt, ran.r.stdout)).toEqual({ rt: rt.name, NOSYMFOLLOW: "refused", OTHER: "followed" });
      const o = optionsAt(info, mps);
      expect({ rt: rt.name, fs: mountAt(info, "/o/sync")?.fsType }).toEqual({ rt: rt.name, fs: "ext4" });
      expect(o["/o/nosymfollow"]?.options).toContain("nosymfollow");
      expect(o["/o/noatime"]?.options).toContain("noatime");
      expect(o["/o/strictatime"]?.options).toEqual(["rw"]);
      expect(o["/o/relatime"]?.options).toEqual(["relatime", "rw"]);
      for (const sb of ["sync", "dirsync", "lazytime"]) {
        expect({ sb, options: o[`/o/${sb}`]?.options }).toEqual({ sb, options: ["relatime", "rw"] });
        expect(o[`/o/${sb}`]?.superOptions).not.toContain(sb);
      }
      return o;
    });
    expect(seen[1]).toEqual(seen[0]!);
    expectNoLeftovers();
  });

  test("rw on a bind of a read-only host mount: alone it keeps ro (as runc); with another flag it is writable; ro and rw in either order", () => {
    const src = hostTmpfs("rosrc", false, "nosuid");
    writeFileSync(path.join(src.dir, "hello"), "host");
    execFileSync("mount", ["-o", "remount,bind,ro,nosuid", src.dir]);
    const mounts = [
      { destination: "/w/rw", type: "bind", source: src.dir, options: ["bind", "rw"] },
      { destination: "/w/rw-nodev", type: "bind", source: src.dir, options: ["bind", "rw", "nodev"] },
      { destination: "/w/ro-rw", type: "bind", source: src.dir, options: ["rbind", "ro", "rw"] },
      { destination: "/w/rw-ro", type: "bind", source: src.dir, options: ["bind", "rw", "ro"] },
      { destination: "/w/tmp-ro-rw", type: "tmpfs", source: "tmpfs", options: ["size=1m", "ro", "rw"] },
      { destination: "/w/tmp-ro", type: "tmpfs", source: "tmpfs", options: ["size=1m", "ro"] },
      // its mount point is made in the read-only tmpfs above, which is still writable then
      { destination: "/w/tmp-ro/inner", type: "tmpfs", source: "tmpfs", options: ["size=1m"] },
    ];
    const mps = mounts.map((m) => m.destination);
    const seen = BOTH.map((rt) => {
      const ran = run(rt, (c) => {
        c.mounts.push(...mounts);
        c.process.args = sh(
          [
            'echo "RW=$(w /w/rw/x 1)"',
            'echo "RW_NODEV=$(w /w/rw-nodev/x 1)"',
            'echo "RO_RW=$(w /w/ro-rw/x 1)"',
            'echo "RW_RO=$(w /w/rw-ro/x 1)"',
            'echo "TMP_RO_RW=$(w /w/tmp-ro-rw/x 1)"',
            'echo "TMP_RO=$(w /w/tmp-ro/x 1)"',
            'echo "INNER=$(w /w/tmp-ro/inner/x 1)"',
            "/bin/probe info",
          ].join("; "),
        );
      });
      const info = infoOf(ran);
      expect(tagged(rt, ran.r.stdout)).toEqual({
        rt: rt.name,
        RW: EROFS,
        RW_NODEV: "ok",
        RO_RW: EROFS,
        RW_RO: EROFS,
        TMP_RO_RW: "ok",
        TMP_RO: EROFS,
        INNER: "ok",
      });
      const o = optionsAt(info, mps);
      expect(o["/w/rw"]?.options).toEqual(expect.arrayContaining(["ro", "nosuid"]));
      expect(o["/w/rw-nodev"]?.options).toEqual(["nodev", "relatime", "rw"]);
      expect(o["/w/ro-rw"]?.options).toEqual(expect.arrayContaining(["ro", "nosuid"]));
      expect(o["/w/rw-ro"]?.options).toEqual(["relatime", "ro"]);
      // a read-only tmpfs is a read-only mount of a writable superblock, as runc makes it
      expect(o["/w/tmp-ro"]?.options).toEqual(["relatime", "ro"]);
      expect(o["/w/tmp-ro"]?.superOptions).toContain("rw");
      return o;
    });
    expect(readFileSync(path.join(src.dir, "x"), "utf8")).toBe("1\n");
    expect(seen[1]).toEqual(seen[0]!);
    expectNoLeftovers();
  });

  test("tmpcopyup: the tmpfs starts with the directory's contents, owners and modes (also read-only); a tmpfs keeps the covered directory's mode", () => {
    const entries = ["/data", "/data/file", "/data/sub", "/data/sub/deep", "/data/link", "/data/loop", "/data/suid", "/data-ro", "/root"];
    const prep = (b: Bundle) => {
      const d = path.join(b.rootfs, "data");
      mkdirSync(path.join(d, "sub"), { recursive: true });
      writeFileSync(path.join(d, "file"), "image file");
      chownSync(path.join(d, "file"), 1000, 1000);
      chmodSync(path.join(d, "file"), 0o604);
      writeFileSync(path.join(d, "sub/deep"), "deep");
      chmodSync(path.join(d, "sub"), 0o750);
      symlinkSync("file", path.join(d, "link"));
      // a block node: runc 1.1.5 cannot copy character devices, fifos or sockets (runts can)
      execFileSync("mknod", ["-m", "0620", path.join(d, "loop"), "b", "7", "0"]);
      writeFileSync(path.join(d, "suid"), "");
      chmodSync(path.join(d, "suid"), 0o4755);
      chmodSync(d, 0o751);
      mkdirSync(path.join(b.rootfs, "data-ro"), { mode: 0o755 });
      writeFileSync(path.join(b.rootfs, "data-ro/f"), "ro content");
    };
    const seen = BOTH.map((rt) => {
      const ran = run(
        rt,
        (c) => {
          c.mounts.push({ destination: "/data", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup", "size=1m", "mode=0700"] });
          c.mounts.push({ destination: "/data-ro", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup", "ro"] });
          c.mounts.push({ destination: "/root", type: "tmpfs", source: "tmpfs", options: ["size=1m"] });
          c.process.args = sh(
            [
              `echo "STAT=$(/bin/probe stat ${entries.join(" ")})"`,
              'echo "DEEP=$(cat /data/sub/deep)"',
              'echo "VIA_LINK=$(cat /data/link)"',
              'echo "WRITE=$(w /data/new 1)"',
              'echo "RO_READ=$(cat /data-ro/f)"',
              'echo "RO_WRITE=$(w /data-ro/new 1)"',
              "/bin/probe info",
            ].join("; "),
          );
        },
        prep,
      );
      const info = infoOf(ran);
      const k = tagged(rt, ran.r.stdout);
      const stat = k.STAT;
      delete k.STAT;
      expect(k).toEqual({
        rt: rt.name,
        DEEP: "deep",
        VIA_LINK: "image file",
        WRITE: "ok",
        RO_READ: "ro content",
        RO_WRITE: EROFS,
      });
      for (const mp of ["/data", "/data-ro", "/root"]) expect({ rt: rt.name, mp, fs: mountAt(info, mp)?.fsType }).toEqual({ rt: rt.name, mp, fs: "tmpfs" });
      // the image itself is untouched
      expect(existsSync(path.join(ran.bundle.rootfs, "data/new"))).toBe(false);
      return JSON.parse(stat!) as any[];
    });
    const byPath = Object.fromEntries(seen[1]!.map((e) => [e.path, e]));
    expect(byPath["/data"]).toMatchObject({ type: "dir", mode: "0751" });
    expect(byPath["/data/file"]).toMatchObject({ type: "file", mode: "0604", uid: 1000, gid: 1000 });
    expect(byPath["/data/sub"]).toMatchObject({ type: "dir", mode: "0750" });
    expect(byPath["/data/link"]).toMatchObject({ type: "link", target: "file" });
    expect(byPath["/data/loop"]).toMatchObject({ type: "blk", major: 7, minor: 0, mode: "0620" });
    expect(byPath["/data/suid"]).toMatchObject({ type: "file", mode: "4755" });
    expect(byPath["/root"]).toMatchObject({ type: "dir", mode: "0700" });
    expect(seen[1]).toEqual(seen[0]!);
    expectNoLeftovers();
  });

  test("per-mount propagation rshared / rslave / rprivate on binds of a shared host mount", () => {
    for (const rt of BOTH) {
      const src = hostTmpfs("prop", true);
      expect(src.peerGroup).toBeDefined();
      const info = infoOf(
        run(rt, (c) => {
          c.mounts.push({ destination: "/p/shared", type: "bind", source: src.dir, options: ["rbind", "rshared"] });
          c.mounts.push({ destination: "/p/slave", type: "bind", source: src.dir, options: ["rbind", "rslave"] });
          c.mounts.push({ destination: "/p/private", type: "bind", source: src.dir, options: ["rbind", "rprivate"] });
        }),
      );
      const optional = (mp: string) => mountAt(info, mp)?.optional ?? ["<not mounted>"];
      expect({ rt: rt.name, shared: optional("/p/shared").some((o) => o.startsWith("shared:")) }).toEqual({ rt: rt.name, shared: true });
      expect({ rt: rt.name, slave: optional("/p/slave") }).toEqual({ rt: rt.name, slave: [`master:${src.peerGroup}`] });
      expect({ rt: rt.name, private: optional("/p/private") }).toEqual({ rt: rt.name, private: [] });
    }
    expectNoLeftovers();
  });

  test("per-mount propagation: rshared on a tmpfs and on a bind of a private host dir makes them shared", () => {
    for (const rt of BOTH) {
      const host = hostDir("privsrc");
      const info = infoOf(
        run(rt, (c) => {
          c.mounts.push({ destination: "/s/tmpfs", type: "tmpfs", source: "tmpfs", options: ["size=1m", "rshared"] });
          c.mounts.push({ destination: "/s/bind", type: "bind", source: host, options: ["rbind", "rshared"] });
        }),
      );
      for (const mp of ["/s/tmpfs", "/s/bind"]) {
        const optional = mountAt(info, mp)?.optional ?? ["<not mounted>"];
        expect({ rt: rt.name, mp, shared: optional.some((o) => o.startsWith("shared:")) }).toEqual({ rt: rt.name, mp, shared: true });
      }
    }
    expectNoLeftovers();
  });

  for (const propagation of ["private", "rprivate", "slave", "rslave", "shared", "rshared"] as const) {
    test(`linux.rootfsPropagation ${propagation} on a rootfs that is a shared host mount: "/" propagation, nothing leaks to the host`, () => {
      for (const rt of BOTH) {
        let peerGroup = "";
        const ran = run(
          rt,
          (c) => {
            c.linux.rootfsPropagation = propagation;
            c.mounts.push({ destination: "/p/tmp", type: "tmpfs", source: "tmpfs", options: ["size=1m"] });
          },
          (b) => {
            execFileSync("mount", ["--bind", b.rootfs, b.rootfs]);
            execFileSync("mount", ["--make-shared", b.rootfs]);
            const m = hostMounts().find((e) => e.mountPoint === b.rootfs);
            peerGroup = m?.optional.find((o) => o.startsWith("shared:"))?.slice("shared:".length) ?? "";
          },
        );
        expect(peerGroup).not.toBe("");
        // Whatever happened inside, the host sees only its own bind of the rootfs.
        expect({ rt: rt.name, hostMounts: mountsUnder(ran.bundle.rootfs) }).toEqual({ rt: rt.name, hostMounts: [ran.bundle.rootfs] });
        const info = infoOf(ran);
        expect(mountAt(info, "/p/tmp")?.fsType).toBe("tmpfs");
        // runc 1.1.5 (the oracle) only has to start and leak nothing; its "/" ends up private
        // even for shared/rshared, so the propagation of "/" is checked on runts alone.
        if (rt === RT_RUNC) continue;
        const optional = mountAt(info, "/")?.optional;
        switch (propagation) {
          case "private":
          case "rprivate":
            expect(optional).toEqual([]);
            break;
          case "slave":
            expect(optional?.filter((o) => o.startsWith("shared:"))).toEqual([]);
            break;
          case "rslave":
            expect(optional).toEqual([`master:${peerGroup}`]);
            break;
          case "shared":
          case "rshared":
            expect(optional?.some((o) => o.startsWith("shared:"))).toBe(true);
            break;
        }
      }
      expectNoLeftovers();
    });
  }

  test("linux.rootfsPropagation private / rslave on a private host rootfs (the usual case)", () => {
    for (const rt of BOTH) {
      for (const propagation of ["private", "rslave"]) {
        const info = infoOf(
          run(rt, (c) => {
            c.linux.rootfsPropagation = propagation;
          }),
        );
        expect({ rt: rt.name, propagation, optional: mountAt(info, "/")?.optional }).toEqual({ rt: rt.name, propagation, optional: [] });
      }
    }
    expectNoLeftovers();
  });

  test("missing mount targets are created inside the rootfs only", () => {
    const hostSide = `/runts-fs-target-${process.pid}`;
    for (const rt of BOTH) {
      const ran = run(rt, (c) => {
        c.mounts.push({ destination: `${hostSide}/deep/dir`, type: "tmpfs", source: "tmpfs", options: ["size=1m"] });
      });
      const info = infoOf(ran);
      expect(mountAt(info, `${hostSide}/deep/dir`)?.fsType).toBe("tmpfs");
      expect(statSync(path.join(ran.bundle.rootfs, hostSide, "deep/dir")).isDirectory()).toBe(true);
      expect(existsSync(hostSide)).toBe(false);
    }
    expectNoLeftovers();
  });

  // ---- masked and read-only paths ---------------------------------------------------------------

  test("maskedPaths: a masked file reads empty and is the null device; a masked directory is an empty read-only tmpfs", () => {
    for (const rt of BOTH) {
      const ran = run(
        rt,
        (c) => {
          c.root.readonly = false;
          c.linux.maskedPaths.push("/etc/secret", "/secretdir", "/does/not/exist");
          c.process.args = sh(
            [
              'echo "READ=$(/bin/probe read /etc/secret; echo "rc $?")"',
              'echo "STAT=$(/bin/probe stat /etc/secret)"',
              'echo "KEYS=$(/bin/probe read /proc/keys; echo "rc $?")"',
              'echo "KEYSSTAT=$(/bin/probe stat /proc/keys)"',
              'echo "LS=$(ls -A /secretdir | wc -l)"',
              'echo "WRITE=$(w /secretdir/x 1)"',
              'echo "WRITEFILE=$(w /etc/secret 1)"',
              "/bin/probe info",
            ].join("; "),
          );
        },
        (b) => {
          writeFileSync(path.join(b.rootfs, "etc/secret"), "top secret");
          mkdirSync(path.join(b.rootfs, "secretdir"));
          writeFileSync(path.join(b.rootfs, "secretdir/file"), "hidden");
        },
      );
      expectOk(ran);
      const k = keyed(ran.r.stdout);
      const nullDev = { type: "chr", major: 1, minor: 3 };
      expect({ rt: rt.name, READ: k.READ, KEYS: k.KEYS, LS: k.LS, WRITE: k.WRITE }).toEqual({
        rt: rt.name,
        READ: "rc 0",
        KEYS: "rc 0",
        LS: "0",
        WRITE: EROFS,
      });
      expect(JSON.parse(k.STAT!)[0]).toMatchObject(nullDev);
      expect(JSON.parse(k.KEYSSTAT!)[0]).toMatchObject(nullDev);
      // writing the masked file writes /dev/null, never the image's file
      expect(k.WRITEFILE).toBe("ok");
      expect(readFileSync(path.join(ran.bundle.rootfs, "etc/secret"), "utf8")).toBe("top secret");
      const info = probeInfo(ran.r.stdout.split("\n").filter((l) => l.startsWith("{")).join("\n"));
      const m = mountAt(info, "/secretdir");
      expect(m?.fsType).toBe("tmpfs");
      expect(opts(m)).toContain("ro");
      expect(info.mounts.some((x) => x.mountPoint.startsWith("/does"))).toBe(false);
      expect(existsSync(path.join(ran.bundle.rootfs, "does"))).toBe(false);
    }
    expectNoLeftovers();
  });

  test("readonlyPaths: /proc/sys and a directory of the image refuse writes (EROFS), the rest stays writable", () => {
    for (const rt of BOTH) {
      const ran = run(
        rt,
        (c) => {
          c.root.readonly = false;
          c.linux.readonlyPaths.push("/data");
          c.process.args = sh(
            [
              'echo "SYS=$(w /proc/sys/kernel/hostname container-name)"',
              'echo "DATA=$(w /data/file changed)"',
              'echo "DATAREAD=$(cat /data/file)"',
              'echo "OTHER=$(w /other 1)"',
            ].join("; "),
          );
        },
        (b) => {
          mkdirSync(path.join(b.rootfs, "data"));
          writeFileSync(path.join(b.rootfs, "data/file"), "original");
        },
      );
      expectOk(ran);
      expect(tagged(rt, ran.r.stdout)).toEqual({ rt: rt.name, SYS: EROFS, DATA: EROFS, DATAREAD: "original", OTHER: "ok" });
      expect(readFileSync(path.join(ran.bundle.rootfs, "data/file"), "utf8")).toBe("original");
    }
    expectNoLeftovers();
  });

  // ---- devices ---------------------------------------------------------------------------------

  test("linux.devices: a char device (1:7, 0600, uid 1, gid 2) and a fifo, as runc creates them", () => {
    const cfg = (c: any) => {
      c.linux.devices = [
        { path: "/dev/myfull", type: "c", major: 1, minor: 7, fileMode: 0o600, uid: 1, gid: 2 },
        { path: "/dev/myfifo", type: "p", fileMode: 0o640 },
      ];
      c.process.args = ["/bin/probe", "stat", "/dev/myfull", "/dev/myfifo"];
    };
    const stats = BOTH.map((rt) => {
      const ran = run(rt, cfg);
      expectOk(ran);
      return JSON.parse(ran.r.stdout);
    });
    expect(stats[1][0]).toMatchObject({ path: "/dev/myfull", exists: true, type: "chr", major: 1, minor: 7, mode: "0600", uid: 1, gid: 2 });
    expect(stats[1][1]).toMatchObject({ path: "/dev/myfifo", exists: true, type: "fifo", mode: "0640", uid: 0, gid: 0 });
    expect(stats[1]).toEqual(stats[0]);
    expectNoLeftovers();
  });

  test("linux.devices: a block device of this host (0660, uid 0, gid 6), as runc creates it", () => {
    // the first block device the host has, e.g. 7:0 (loop0)
    const [major, minor] = readdirSync("/sys/dev/block")[0]!.split(":").map(Number) as [number, number];
    const cfg = (c: any) => {
      c.linux.devices = [{ path: "/dev/myblock", type: "b", major, minor, fileMode: 0o660, uid: 0, gid: 6 }];
      c.process.args = ["/bin/probe", "stat", "/dev/myblock"];
    };
    const stats = BOTH.map((rt) => {
      const ran = run(rt, cfg);
      expectOk(ran);
      return JSON.parse(ran.r.stdout);
    });
    expect(stats[1][0]).toMatchObject({ path: "/dev/myblock", exists: true, type: "blk", major, minor, mode: "0660", uid: 0, gid: 6 });
    expect(stats[1]).toEqual(stats[0]);
    expectNoLeftovers();
  });

  test("linux.devices: an unknown device type is rejected, naming the field", () => {
    const bundle = newBundle({
      config: (c) => {
        c.linux.devices = [
          { path: "/dev/ok", type: "c", major: 1, minor: 3 },
          { path: "/dev/bad", type: "x", major: 1, minor: 3 },
        ];
      },
    });
    const id = newId(RT_RUNTS);
    const r = runtime(RUNTS, ["--root", ROOTS.runts, "create", "--bundle", bundle.dir, id]);
    expect(r.code).not.toBe(0);
    // either spelling of the field: linux.devices[1].type or the JSON pointer /linux/devices/1/type
    expect(r.stderr).toMatch(/linux\.devices\[1\]\.type|\/linux\/devices\/1\/type/);
    expect(r.stderr).toContain('"x"');
    expectNoLeftovers();
  });

  test("default devices, /dev symlinks, /dev/pts, /dev/shm and /dev/mqueue are there as runc makes them", () => {
    const paths = [
      "/dev/null",
      "/dev/zero",
      "/dev/full",
      "/dev/random",
      "/dev/urandom",
      "/dev/tty",
      "/dev/fd",
      "/dev/stdin",
      "/dev/stdout",
      "/dev/stderr",
      "/dev/ptmx",
      "/dev/pts",
      "/dev/shm",
      "/dev/mqueue",
    ];
    const cfg = (c: any) => {
      c.process.args = sh(`/bin/probe stat ${paths.join(" ")}; /bin/probe info`);
    };
    const results = BOTH.map((rt) => {
      const ran = run(rt, cfg);
      expectOk(ran);
      const [statLine, infoLine] = ran.r.stdout.split("\n");
      return { stats: JSON.parse(statLine!) as any[], info: probeInfo(infoLine!) };
    });
    const { stats, info } = results[1]!;
    const byPath = Object.fromEntries(stats.map((s) => [s.path, s]));
    for (const [p, minor] of [
      ["/dev/null", 3],
      ["/dev/zero", 5],
      ["/dev/full", 7],
      ["/dev/random", 8],
      ["/dev/urandom", 9],
    ] as const) {
      expect(byPath[p]).toMatchObject({ type: "chr", major: 1, minor, mode: "0666" });
    }
    expect(byPath["/dev/tty"]).toMatchObject({ type: "chr", major: 5, minor: 0 });
    expect(byPath["/dev/fd"]).toMatchObject({ type: "link", target: "/proc/self/fd" });
    expect(byPath["/dev/stdin"]).toMatchObject({ type: "link", target: "/proc/self/fd/0" });
    expect(byPath["/dev/stdout"]).toMatchObject({ type: "link", target: "/proc/self/fd/1" });
    expect(byPath["/dev/stderr"]).toMatchObject({ type: "link", target: "/proc/self/fd/2" });
    expect(byPath["/dev/ptmx"]).toMatchObject({ type: "link", target: "pts/ptmx" });
    expect(byPath["/dev/shm"]).toMatchObject({ type: "dir", mode: "1777" });
    expect(mountAt(info, "/dev/shm")?.fsType).toBe("tmpfs");
    expect(mountAt(info, "/dev/pts")?.fsType).toBe("devpts");
    expect(mountAt(info, "/dev/mqueue")?.fsType).toBe("mqueue");
    expect(stats).toEqual(results[0]!.stats);
    expectNoLeftovers();
  });
});

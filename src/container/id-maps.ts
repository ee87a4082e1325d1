// Writes a new user namespace's id maps from the host while the container init waits for
// them (runts-init's wait_for_id_maps). As root, or when a map is only the caller's own id,
// straight into /proc/PID/{uid,gid}_map (for a caller without CAP_SETGID the kernel wants
// setgroups "deny" first, as runc writes it); otherwise through the setuid newuidmap and
// newgidmap, which check /etc/subuid and /etc/subgid, as runc does.
import { errnoOf, RuntsError } from "../errors.ts";
import { O, writeText } from "../libc.ts";
import type { IdMapping } from "../spec/types.ts";
import type { IdMaps } from "../plan/idmap.ts";

const TABLES = [
  { file: "uid_map", helper: "newuidmap", field: "linux.uidMappings", ranges: (m: IdMaps) => m.uidRanges, text: (m: IdMaps) => m.uid },
  { file: "gid_map", helper: "newgidmap", field: "linux.gidMappings", ranges: (m: IdMaps) => m.gidRanges, text: (m: IdMaps) => m.gid },
] as const;

const onlyOwn = (ranges: IdMapping[], id: number) => ranges.length === 1 && ranges[0]!.hostID === id && ranges[0]!.size === 1;

function write(path: string, text: string, field: string): void {
  try {
    writeText(path, text, O.WRONLY);
  } catch (err) {
    throw new RuntsError(`write ${path.slice(path.lastIndexOf("/") + 1)}`, path, errnoOf(err), "", field);
  }
}

function viaHelper(helper: string, pid: number, ranges: IdMapping[], field: string): void {
  const argv = [helper, String(pid), ...ranges.flatMap((r) => [String(r.containerID), String(r.hostID), String(r.size)])];
  let r: ReturnType<typeof Bun.spawnSync>;
  try {
    r = Bun.spawnSync(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" } });
  } catch {
    throw new RuntsError(helper, "", 0, `maps ids besides the caller's own: needs ${helper} (Debian package uidmap) and an entry in /etc/sub${helper.slice(3, 6)}`, field);
  }
  if (r.exitCode !== 0) {
    const why = new TextDecoder().decode(r.stderr ?? new Uint8Array()).trim().split("\n").pop() || `exit status ${r.exitCode}`;
    throw new RuntsError(helper, argv.slice(1).join(" "), 0, why, field);
  }
}

export function writeIdMaps(pid: number, maps: IdMaps, ids: { euid: number; egid: number }): void {
  for (const t of TABLES) {
    const own = t.file === "uid_map" ? ids.euid : ids.egid;
    const ranges = t.ranges(maps);
    if (ids.euid === 0) write(`/proc/${pid}/${t.file}`, t.text(maps), t.field);
    else if (onlyOwn(ranges, own)) {
      if (t.file === "gid_map") write(`/proc/${pid}/setgroups`, "deny", t.field);
      write(`/proc/${pid}/${t.file}`, t.text(maps), t.field);
    } else viaHelper(t.helper, pid, ranges, t.field);
  }
}

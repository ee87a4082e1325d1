// Writes a new user namespace's id maps from the host while the container init waits for
// them (runts-init's wait_for_id_maps): as root straight into /proc/PID/{uid,gid}_map, as
// runc does (setgroups stays "allow").
import { errnoOf, RuntsError } from "../errors.ts";
import { O, writeText } from "../libc.ts";
import type { IdMaps } from "../plan/idmap.ts";

export function writeIdMaps(pid: number, maps: IdMaps): void {
  for (const [file, text, field] of [
    ["uid_map", maps.uid, "linux.uidMappings"],
    ["gid_map", maps.gid, "linux.gidMappings"],
  ] as const) {
    const path = `/proc/${pid}/${file}`;
    try {
      writeText(path, text, O.WRONLY);
    } catch (err) {
      throw new RuntsError(`write ${file}`, path, errnoOf(err), "", field);
    }
  }
}

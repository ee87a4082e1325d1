import { RuntsError } from "../errors.ts";

const ID_PATTERN = /^[A-Za-z0-9_+-][A-Za-z0-9_+.-]*$/;
/** One path component under the state root and the cgroup root. */
export const MAX_ID_LENGTH = 255;

export function validateId(id: string | undefined): string {
  if (!id) throw new RuntsError("container id", "", 0, "missing (usage: runts COMMAND [flags] <container-id>)");
  if (id.length > MAX_ID_LENGTH) {
    throw new RuntsError("container id", id.slice(0, 32) + "…", 0, `too long (${id.length} characters, at most ${MAX_ID_LENGTH})`);
  }
  if (!ID_PATTERN.test(id)) {
    throw new RuntsError("container id", id, 0, "invalid: use letters, digits, and _ + - . (not first)");
  }
  return id;
}

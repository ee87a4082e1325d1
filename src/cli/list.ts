import { stateJson, withContainer } from "../container/lifecycle.ts";
import { RuntsError, SysError } from "../errors.ts";
import { listDir } from "../libc.ts";
import type { Handler } from "./commands.ts";
import { writeStdout } from "../stdio.ts";

const ENOENT = 2;

/** The container ids under root. A missing default root is an empty list; a missing --root
 * that was given is an error (runc 1.5; runc 1.1.5 creates it). */
function containerIds(root: string, rootGiven: boolean): string[] {
  try {
    return listDir(root)
      .filter((e) => e.dir)
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if (err instanceof SysError && err.errno === ENOENT && !rootGiven) return [];
    if (err instanceof SysError) throw new RuntsError("list: open", root, err.errno);
    throw err;
  }
}

/** Go's tabwriter as runc's list uses it (minwidth 12, padding 3): the last column unpadded. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(12, ...rows.map((r) => r[c]!.length + 3)));
  return rows.map((r) => r.map((v, c) => (c < r.length - 1 ? v.padEnd(widths[c]!) : v)).join("") + "\n").join("");
}

const handler: Handler = (args, ctx) => {
  const states = containerIds(ctx.root, ctx.rootGiven === true).flatMap((id) => {
    try {
      return [withContainer(ctx, id, stateJson)];
    } catch {
      return [];
    }
  });
  if (args.flags.quiet) {
    for (const s of states) writeStdout(`${s.id}\n`);
  } else if (args.flags.format === "json") {
    // runc marshals an empty Go slice: null.
    writeStdout(`${states.length ? JSON.stringify(states) : "null"}\n`);
  } else if (args.flags.format === "table") {
    const rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]];
    for (const s of states) rows.push([s.id, s.pid, s.status, s.bundle, s.created, s.owner].map(String));
    writeStdout(table(rows));
  } else {
    throw new RuntsError("list", "", 0, `invalid format option ${JSON.stringify(args.flags.format)} (table or json)`);
  }
  return 0;
};
export default handler;

import { stateJson, withContainer } from "../container/lifecycle.ts";
import { RuntsError } from "../errors.ts";
import { listDir } from "../libc.ts";
import type { Handler } from "./commands.ts";
import { writeStdout } from "../stdio.ts";

const handler: Handler = (args, ctx) => {
  let ids: string[] = [];
  try {
    ids = listDir(ctx.root)
      .filter((e) => e.dir && !e.name.startsWith("."))
      .map((e) => e.name)
      .sort();
  } catch {}
  const states = ids.flatMap((id) => {
    try {
      return [withContainer(ctx, id, stateJson)];
    } catch {
      return [];
    }
  });
  if (args.flags.quiet) {
    for (const s of states) writeStdout(`${s.id}\n`);
  } else if (args.flags.format === "json") {
    writeStdout(JSON.stringify(states) + "\n");
  } else if (args.flags.format === "table") {
    // The IP column (runts's networking) only when a container has one: runc's table otherwise.
    const ipOf = (s: (typeof states)[number]) => (s.annotations as Record<string, string> | undefined)?.["run.runts.ip"] ?? "";
    const withIp = states.some((s) => ipOf(s));
    const rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER", ...(withIp ? ["IP"] : [])]];
    for (const s of states) rows.push([s.id, s.pid, s.status, s.bundle, s.created, s.owner, ...(withIp ? [ipOf(s)] : [])].map(String));
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) writeStdout(r.map((v, c) => v.padEnd(widths[c]! + 3)).join("").trimEnd() + "\n");
  } else {
    throw new RuntsError("list", "", 0, `unknown --format ${args.flags.format}`);
  }
  return 0;
};
export default handler;

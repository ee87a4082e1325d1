import { spawnSync } from "node:child_process";
import { ps } from "../container/lifecycle.ts";
import { RuntsError } from "../errors.ts";
import type { Handler } from "./commands.ts";
import { writeStdout } from "../stdio.ts";

const handler: Handler = (args, ctx) => {
  const [id, ...psArgs] = args.positionals;
  const pids = ps(ctx, id!);
  if (args.flags.format === "json") {
    writeStdout(JSON.stringify(pids) + "\n");
    return 0;
  }
  if (args.flags.format !== "table") throw new RuntsError("ps", "", 0, `unknown --format ${args.flags.format}`);
  if (!pids.length) return 0;
  const r = spawnSync("ps", [...(psArgs.length ? psArgs : ["-ef"])], { encoding: "utf8" });
  if (r.error) throw new RuntsError("ps: run ps(1)", "ps", Math.abs((r.error as NodeJS.ErrnoException).errno ?? 0));
  const lines = r.stdout.split("\n");
  const header = lines[0] ?? "";
  const pidCol = header.trim().split(/\s+/).indexOf("PID");
  if (pidCol < 0) throw new RuntsError("ps", "", 0, "ps output has no PID column");
  const want = new Set(pids.map(String));
  writeStdout(header + "\n");
  for (const line of lines.slice(1)) {
    if (want.has(line.trim().split(/\s+/)[pidCol] ?? "")) writeStdout(line + "\n");
  }
  return 0;
};
export default handler;

// --help, rendered by yargs from the same command table the fast parser uses.
import yargs from "yargs";
import { COMMANDS, GLOBAL_FLAGS } from "./commands.ts";
import type { FlagSpec } from "./flags.ts";
import { writeStdout } from "../stdio.ts";

function options(flags: FlagSpec[]) {
  return Object.fromEntries(
    flags.map((f) => [f.name, { alias: f.alias, type: f.type, describe: f.describe, default: f.default, array: f.multiple }]),
  );
}

export async function printHelp(command: string | undefined): Promise<number> {
  const cmd = COMMANDS.find((c) => c.name === command);
  let y = yargs([])
    .scriptName("runts")
    .wrap(100)
    .version(false)
    .help(false);
  if (cmd) {
    y = y.usage(`runts [global flags] ${cmd.usage}\n\n${cmd.describe}`).options(options(cmd.flags));
  } else {
    y = y.usage("runts [global flags] <command> [flags] [args]\n\nAn OCI container runtime, a drop-in for runc.").options(options(GLOBAL_FLAGS));
    for (const c of COMMANDS) y = y.command(c.usage, c.describe);
  }
  writeStdout((await y.getHelp()) + "\n");
  return 0;
}

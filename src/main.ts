// runts entry point: global flags, then one command. Hot commands load only what they use.
import { splitCommandLine } from "./cli/argv.ts";
import { COMMANDS, GLOBAL_FLAGS } from "./cli/commands.ts";
import { parseFlags, UsageError } from "./cli/flags.ts";
import { RuntsError } from "./errors.ts";
import { Logger, type LogFormat } from "./log.ts";
import { writeStdout, writeStderr } from "./stdio.ts";

export const VERSION = "0.1.0";
const SPEC_VERSION = "1.2.0";

async function main(argv: string[]): Promise<number> {
  const line = splitCommandLine(argv);
  const global = parseFlags(line.global, GLOBAL_FLAGS);
  const format = global.flags["log-format"] as string;
  if (format !== "text" && format !== "json") {
    throw new UsageError(`--log-format must be text or json, not ${JSON.stringify(format)}`);
  }
  const log = new Logger(global.flags.log as string | undefined, format as LogFormat, global.flags.debug === true);
  if (global.flags.version) {
    writeStdout(`runts version ${VERSION}\nspec: ${SPEC_VERSION}\n`);
    return 0;
  }
  const { name, rest } = line;
  if (global.flags.help || !name || rest.includes("--help") || rest.includes("-h")) {
    const { printHelp } = await import("./cli/help.ts");
    return printHelp(name);
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) throw new UsageError(`unknown command ${JSON.stringify(name)} (see runts --help)`);
  const args = parseFlags(rest, cmd.flags, cmd.stopAtPositional);
  try {
    if (global.flags["systemd-cgroup"]) throw new RuntsError("--systemd-cgroup", "", 0, "the systemd cgroup driver is not supported yet");
    if (global.flags.rootless === "true") throw new RuntsError("--rootless true", "", 0, "rootless containers are not supported yet");
    const handler = (await cmd.load()).default;
    return await handler(args, { root: absoluteRoot(global.flags.root as string), log });
  } catch (err) {
    log.error(errorMessage(err, cmd.name));
    return 1;
  }
}

/** --root as an absolute path without a trailing slash (node:path costs ~1 ms to load). */
function absoluteRoot(root: string): string {
  const abs = root.startsWith("/") ? root : `${process.cwd()}/${root}`;
  return abs.replace(/\/+$/, "") || "/";
}

function errorMessage(err: unknown, cmd: string): string {
  if (err instanceof RuntsError || err instanceof UsageError) return err.message;
  if (err instanceof Error && err.message.startsWith("config.json:")) return err.message;
  return `${cmd}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    writeStderr(`runts: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);

// runts entry point: global flags, then one command. Hot commands load only what they use.
import { splitCommandLine } from "./cli/argv.ts";
import { COMMANDS, GLOBAL_FLAGS } from "./cli/commands.ts";
import { type FlagSpec, parseFlags, UsageError } from "./cli/flags.ts";
import { RuntsError } from "./errors.ts";
import { Logger } from "./log.ts";
import { defaultStateRoot, pathOwner, rootlessMode } from "./rootless.ts";
import { writeStdout, writeStderr } from "./stdio.ts";

import { SPEC_VERSION, VERSION } from "./version.ts";

/** `-h`/`--help` after a command: its help, as runc prints it. */
const HELP: FlagSpec = { name: "help", alias: ["h"], type: "boolean", describe: "show help" };

/** runc's exit statuses: 3 for an unknown command (urfave/cli's "No help topic"), 1 for anything else. */
class UnknownCommand extends UsageError {}

async function main(argv: string[]): Promise<number> {
  const { global: globalArgv, name, rest } = splitCommandLine(argv);
  // Found before the global flags are parsed: a usage error must reach --log too.
  const target = logTarget(globalArgv);
  const log = new Logger(target.file, target.format === "json" ? "json" : "text", globalArgv.some((a) => /^--?debug(=true)?$/.test(a)));
  try {
    const global = parseFlags(globalArgv, GLOBAL_FLAGS);
    if (target.format !== "text" && target.format !== "json") {
      throw new UsageError(`invalid --log-format ${JSON.stringify(target.format)} (text or json)`);
    }
    if (global.flags.version) {
      writeStdout(`runts version ${VERSION}\nspec: ${SPEC_VERSION}\n`);
      return 0;
    }
    if (global.flags.help || !name) {
      const { printHelp } = await import("./cli/help.ts");
      return printHelp(undefined);
    }
    const cmd = COMMANDS.find((c) => c.name === name);
    if (!cmd) throw new UnknownCommand(`unknown command ${JSON.stringify(name)} (see runts --help)`);
    const args = parseFlags(rest, [...cmd.flags, HELP], cmd.stopAtPositional);
    if (args.flags.help) {
      const { printHelp } = await import("./cli/help.ts");
      return printHelp(name);
    }
    delete args.flags.help;
    if (global.flags["systemd-cgroup"]) throw new RuntsError("--systemd-cgroup", "", 0, "the systemd cgroup driver is not supported yet");
    const euid = process.geteuid?.() ?? 0;
    const rootless = rootlessMode(global.flags.rootless as string, euid);
    const root = (global.flags.root as string | undefined) ?? defaultStateRoot(rootless, euid, process.env, pathOwner);
    const handler = (await cmd.load()).default;
    return await handler(args, { root: absoluteRoot(root), rootGiven: global.flags.root !== undefined, log, rootless });
  } catch (err) {
    log.error(errorMessage(err, name ?? "runts"));
    return err instanceof UnknownCommand ? 3 : 1;
  }
}

/** --log and --log-format, read leniently from the global flags (which may not parse). */
function logTarget(argv: string[]): { file?: string; format: string } {
  const out: { file?: string; format: string } = { format: "text" };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?(log|log-format)(?:=(.*))?$/.exec(argv[i]!);
    if (!m) continue;
    const value = m[2] ?? argv[++i];
    if (value === undefined) break;
    if (m[1] === "log") out.file = value;
    else out.format = value;
  }
  return out;
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
    process.exit(1);
  },
);

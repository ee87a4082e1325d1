// runts entry point: global flags, then one command. Hot commands load only what they use.
import { COMMANDS, GLOBAL_FLAGS } from "./cli/commands.ts";
import { parseFlags, UsageError } from "./cli/flags.ts";
import { RuntsError } from "./errors.ts";
import { Logger, type LogFormat } from "./log.ts";
import { defaultStateRoot, pathOwner, rootlessMode } from "./rootless.ts";
import { writeStdout, writeStderr } from "./stdio.ts";

export const VERSION = "0.1.0";
const SPEC_VERSION = "1.2.0";

async function main(argv: string[]): Promise<number> {
  const cmdIndex = argv.findIndex((a, i) => !a.startsWith("-") && !isFlagValue(argv, i));
  const global = parseFlags(cmdIndex < 0 ? argv : argv.slice(0, cmdIndex), GLOBAL_FLAGS);
  const format = global.flags["log-format"] as string;
  if (format !== "text" && format !== "json") {
    throw new UsageError(`--log-format must be text or json, not ${JSON.stringify(format)}`);
  }
  const log = new Logger(global.flags.log as string | undefined, format as LogFormat, global.flags.debug === true);
  if (global.flags.version) {
    writeStdout(`runts version ${VERSION}\nspec: ${SPEC_VERSION}\n`);
    return 0;
  }
  const name = cmdIndex < 0 ? undefined : argv[cmdIndex];
  const rest = cmdIndex < 0 ? [] : argv.slice(cmdIndex + 1);
  if (global.flags.help || !name || rest.includes("--help") || rest.includes("-h")) {
    const { printHelp } = await import("./cli/help.ts");
    return printHelp(name);
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) throw new UsageError(`unknown command ${JSON.stringify(name)} (see runts --help)`);
  const args = parseFlags(rest, cmd.flags, cmd.stopAtPositional);
  try {
    if (global.flags["systemd-cgroup"]) throw new RuntsError("--systemd-cgroup", "", 0, "the systemd cgroup driver is not supported yet");
    const euid = process.geteuid?.() ?? 0;
    const rootless = rootlessMode(global.flags.rootless as string, euid);
    const root = (global.flags.root as string | undefined) ?? defaultStateRoot(rootless, euid, process.env, pathOwner);
    const handler = (await cmd.load()).default;
    return await handler(args, { root: absoluteRoot(root), log, rootless });
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

/** Global flags that take a value: `--root /x create` must not read /x as the command. */
function isFlagValue(argv: string[], i: number): boolean {
  const prev = argv[i - 1];
  if (!prev || prev.includes("=")) return false;
  const name = prev.replace(/^--?/, "");
  return GLOBAL_FLAGS.some((f) => f.type !== "boolean" && (f.name === name || f.alias?.includes(name)));
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

// The command line split into global flags, the command's name and its own arguments, the
// way managers call runc: `[global flags] <command> [flags] [args]`.
import { GLOBAL_FLAGS } from "./commands.ts";

export interface CommandLine {
  /** The global flags before the command. */
  global: string[];
  /** The command's name, if any. */
  name: string | undefined;
  /** What follows the command. */
  rest: string[];
}

export function splitCommandLine(argv: string[]): CommandLine {
  const cmdIndex = argv.findIndex((a, i) => !a.startsWith("-") && !isFlagValue(argv, i));
  if (cmdIndex < 0) return { global: argv, name: undefined, rest: [] };
  return { global: argv.slice(0, cmdIndex), name: argv[cmdIndex], rest: argv.slice(cmdIndex + 1) };
}

/** Global flags that take a value: `--root /x create` must not read /x as the command. */
function isFlagValue(argv: string[], i: number): boolean {
  const prev = argv[i - 1];
  if (!prev || prev.includes("=")) return false;
  const name = prev.replace(/^--?/, "");
  return GLOBAL_FLAGS.some((f) => f.type !== "boolean" && (f.name === name || f.alias?.includes(name)));
}

// runc-compatible flag parsing (urfave/cli conventions): `--name value`, `--name=value`,
// single-dash long names (`-bundle x`), short aliases, `--flag=false`, `--` to end flags.

export interface FlagSpec {
  name: string;
  alias?: string[];
  /** number: a non-negative whole number (runc's uint flags). */
  type: "boolean" | "string" | "number";
  /** Repeatable (string flags only): values collect into an array. */
  multiple?: boolean;
  describe: string;
  default?: string | number | boolean;
}

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

export interface Parsed {
  flags: FlagValues;
  positionals: string[];
}

export class UsageError extends Error {}

function findFlag(specs: FlagSpec[], name: string): FlagSpec | undefined {
  return specs.find((f) => f.name === name || f.alias?.includes(name));
}

/**
 * Parses argv against specs. With stopAtPositional, everything from the first positional
 * on is positional (exec's command line); otherwise flags and positionals may mix.
 */
export function parseFlags(argv: string[], specs: FlagSpec[], stopAtPositional = false): Parsed {
  const flags: FlagValues = {};
  for (const f of specs) {
    if (f.default !== undefined) flags[f.name] = f.default;
    else if (f.multiple) flags[f.name] = [];
  }
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-" || (positionals.length > 0 && stopAtPositional)) {
      positionals.push(arg);
      if (stopAtPositional) {
        positionals.push(...argv.slice(i + 1));
        break;
      }
      continue;
    }
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = findFlag(specs, name);
    if (!spec) throw new UsageError(`unknown flag ${arg.slice(0, eq >= 0 ? eq + arg.length - body.length : undefined)}`);
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (spec.type === "boolean") {
      if (value === undefined) flags[spec.name] = true;
      else if (value === "true" || value === "false") flags[spec.name] = value === "true";
      else throw new UsageError(`flag --${spec.name} takes true or false, not ${JSON.stringify(value)}`);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag --${spec.name} needs a value`);
      value = argv[++i]!;
    }
    if (spec.type === "number") {
      if (!/^\d+$/.test(value)) throw new UsageError(`flag --${spec.name} takes a non-negative whole number, not ${JSON.stringify(value)}`);
      flags[spec.name] = Number(value);
    } else if (spec.multiple) {
      (flags[spec.name] as string[]).push(value);
    } else {
      flags[spec.name] = value;
    }
  }
  return { flags, positionals };
}

import { events } from "../container/events.ts";
import { RuntsError } from "../errors.ts";
import type { Handler } from "./commands.ts";

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("5s", "1m30s", "250ms") in milliseconds. */
export function durationMs(s: string): number {
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join("") !== s) throw new RuntsError("events", "", 0, `--interval: ${JSON.stringify(s)} is not a duration (like 5s or 500ms)`);
  const ms = parts.reduce((t, p) => t + Number(p[1]) * UNITS[p[2]!]!, 0);
  if (ms <= 0) throw new RuntsError("events", "", 0, "--interval: must be positive");
  return ms;
}

const handler: Handler = (args, ctx) => {
  events(ctx, args.positionals[0]!, { stats: args.flags.stats === true, intervalMs: durationMs(String(args.flags.interval)) });
  return 0;
};
export default handler;

import { constants } from "node:os";
import { UsageError } from "./flags.ts";

const byName = constants.signals as Record<string, number>;

/** A signal given as a number, a name, or a name without SIG: "9", "KILL", "SIGKILL", "sigkill". */
export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
  } else {
    const up = s.toUpperCase();
    const n = byName[up.startsWith("SIG") ? up : `SIG${up}`];
    if (n !== undefined) return n;
    const rt = /^SIGRTM(IN|AX)([+-]\d+)?$/.exec(up.startsWith("SIG") ? up : `SIG${up}`);
    if (rt) {
      const n = (rt[1] === "IN" ? 34 : 64) + Number(rt[2] ?? 0);
      if (n >= 34 && n <= 64) return n;
    }
  }
  throw new UsageError(`unknown signal ${JSON.stringify(s)}`);
}

import { kill } from "../container/lifecycle.ts";
import type { Handler } from "./commands.ts";
import { parseSignal } from "./signals.ts";

const handler: Handler = (args, ctx) => {
  const signal = parseSignal(args.positionals[1] ?? "SIGTERM");
  kill(ctx, args.positionals[0]!, signal, args.flags.all === true);
  return 0;
};
export default handler;

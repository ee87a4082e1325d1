import { start } from "../container/lifecycle.ts";
import type { Handler } from "./commands.ts";

const handler: Handler = (args, ctx) => {
  start(ctx, args.positionals[0]!);
  return 0;
};
export default handler;

import { pause } from "../container/lifecycle.ts";
import type { Handler } from "./commands.ts";

const handler: Handler = (args, ctx) => {
  pause(ctx, args.positionals[0]!, false);
  return 0;
};
export default handler;

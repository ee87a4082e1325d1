import { remove } from "../container/lifecycle.ts";
import type { Handler } from "./commands.ts";

const handler: Handler = async (args, ctx) => {
  await remove(ctx, args.positionals[0]!, args.flags.force === true);
  return 0;
};
export default handler;

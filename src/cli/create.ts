import { create } from "../container/create.ts";
import type { Handler } from "./commands.ts";
import { createFlags } from "./common.ts";

const handler: Handler = async (args, ctx) => {
  await create(ctx, { ...createFlags(args), foreground: false });
  return 0;
};
export default handler;

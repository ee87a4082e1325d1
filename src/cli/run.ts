import { run } from "../container/run.ts";
import type { Handler } from "./commands.ts";
import { createFlags } from "./common.ts";

const handler: Handler = (args, ctx) =>
  run(ctx, { ...createFlags(args), detach: args.flags.detach === true, noSubreaper: args.flags["no-subreaper"] === true, keep: args.flags.keep === true });
export default handler;

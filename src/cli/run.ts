import { run } from "../container/run.ts";
import type { Handler } from "./commands.ts";
import { unsupported } from "./common.ts";

const handler: Handler = (args, ctx) => {
  unsupported(args, ["console-socket"]);
  return run(ctx, {
    id: args.positionals[0]!,
    bundle: args.flags.bundle as string,
    pidFile: args.flags["pid-file"] as string | undefined,
    noPivot: args.flags["no-pivot"] === true,
    preserveFds: args.flags["preserve-fds"] as number,
    detach: args.flags.detach === true,
    keep: args.flags.keep === true,
  });
};
export default handler;

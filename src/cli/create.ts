import { create } from "../container/create.ts";
import type { Handler } from "./commands.ts";
import { unsupported } from "./common.ts";

const handler: Handler = async (args, ctx) => {
  unsupported(args, ["console-socket"]);
  await create(ctx, {
    id: args.positionals[0]!,
    bundle: args.flags.bundle as string,
    pidFile: args.flags["pid-file"] as string | undefined,
    noPivot: args.flags["no-pivot"] === true,
    preserveFds: args.flags["preserve-fds"] as number,
    foreground: false,
  });
  return 0;
};
export default handler;

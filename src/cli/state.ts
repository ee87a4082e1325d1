import { stateJson, withContainer } from "../container/lifecycle.ts";
import type { Handler } from "./commands.ts";
import { writeStdout } from "../stdio.ts";

const handler: Handler = (args, ctx) => {
  const state = withContainer(ctx, args.positionals[0]!, stateJson);
  writeStdout(JSON.stringify(state, null, 2) + "\n");
  return 0;
};
export default handler;

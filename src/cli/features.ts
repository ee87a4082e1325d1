import { features } from "../features.ts";
import { writeStdout } from "../stdio.ts";
import type { Handler } from "./commands.ts";

const handler: Handler = () => {
  writeStdout(JSON.stringify(features(), null, 4) + "\n");
  return 0;
};
export default handler;

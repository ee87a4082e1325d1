import { existsSync, writeFileSync } from "node:fs";
import { posix } from "node:path";
import { RuntsError, wrapSys } from "../errors.ts";
import { defaultSpec } from "../spec/defaultSpec.ts";
import type { Handler } from "./commands.ts";

const handler: Handler = (args) => {
  const file = posix.join(args.flags.bundle as string, "config.json");
  if (existsSync(file)) throw new RuntsError("spec", file, 0, "File exists. Remove it first or use a different bundle directory");
  const spec = defaultSpec({ rootless: args.flags.rootless === true });
  wrapSys("spec: write", file, () => writeFileSync(file, JSON.stringify(spec, null, "\t")));
  return 0;
};
export default handler;

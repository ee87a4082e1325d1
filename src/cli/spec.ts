import { writeFileSync } from "node:fs";
import { posix } from "node:path";
import { RuntsError, wrapSys } from "../errors.ts";
import { defaultSpec } from "../spec/defaultSpec.ts";
import type { Handler } from "./commands.ts";

const handler: Handler = (args) => {
  const file = posix.join(args.flags.bundle as string, "config.json");
  const spec = defaultSpec({ rootless: args.flags.rootless === true });
  // "wx" (O_CREAT|O_EXCL): a dangling symlink planted at config.json is not followed.
  wrapSys("spec: write", file, () => {
    try {
      writeFileSync(file, JSON.stringify(spec, null, "\t"), { flag: "wx" });
    } catch (err) {
      if ((err as { code?: string }).code === "EEXIST") throw new RuntsError("spec", file, 0, "File exists. Remove it first or use a different bundle directory");
      throw err;
    }
  });
  return 0;
};
export default handler;

import { exec } from "../container/exec.ts";
import type { Handler } from "./commands.ts";
import { unsupported } from "./common.ts";
import { UsageError } from "./flags.ts";

/** Flags that describe the process: with --process the file does (runc ignores them there; runts refuses). */
const PROCESS_FLAGS = ["cwd", "env", "user", "additional-gids", "cap", "no-new-privs", "apparmor", "process-label"];

const handler: Handler = (args, ctx) => {
  const f = args.flags;
  const list = (name: string) => f[name] as string[];
  unsupported(args, ["apparmor", "process-label"]);
  const processFile = f.process as string | undefined;
  if (processFile !== undefined) {
    for (const name of PROCESS_FLAGS) {
      const v = f[name];
      if (v !== undefined && !(Array.isArray(v) && v.length === 0)) {
        throw new UsageError(`exec: --${name} cannot be combined with --process (put it in the process file)`);
      }
    }
  }
  const [id, ...command] = args.positionals;
  if (!id) throw new UsageError("exec: a container id is required");
  return exec(ctx, {
    id,
    processFile,
    flags: {
      args: command,
      cwd: f.cwd as string | undefined,
      env: list("env"),
      user: f.user as string | undefined,
      additionalGids: list("additional-gids"),
      caps: list("cap"),
      noNewPrivs: f["no-new-privs"] as boolean | undefined,
      tty: f.tty as boolean | undefined,
    },
    detach: f.detach === true,
    pidFile: f["pid-file"] as string | undefined,
    preserveFds: f["preserve-fds"] as number,
    ignorePaused: f["ignore-paused"] === true,
    cgroup: list("cgroup"),
    pidfdSocket: f["pidfd-socket"] as string | undefined,
    consoleSocket: f["console-socket"] as string | undefined,
  });
};
export default handler;

// The command table: names, flags and usage of every runts command (runc's CLI). The
// handlers load lazily so a call pays only for the command it runs.
import type { Context } from "../container/context.ts";
import type { FlagSpec, Parsed } from "./flags.ts";

export type Handler = (args: Parsed, ctx: Context) => Promise<number> | number;

export interface CommandSpec {
  name: string;
  describe: string;
  usage: string;
  flags: FlagSpec[];
  /** exec: flags end at the first positional (the rest is the process's command line). */
  stopAtPositional?: boolean;
  load: () => Promise<{ default: Handler }>;
}

const bundle: FlagSpec = { name: "bundle", alias: ["b"], type: "string", default: ".", describe: "path to the root of the bundle directory" };
const pidFile: FlagSpec = { name: "pid-file", type: "string", describe: "file to write the process id to" };
const consoleSocket: FlagSpec = { name: "console-socket", type: "string", describe: "path to an AF_UNIX socket which will receive the pty master" };
const noPivot: FlagSpec = { name: "no-pivot", type: "boolean", describe: "do not use pivot_root (for a rootfs on ramdisk)" };
const noNewKeyring: FlagSpec = { name: "no-new-keyring", type: "boolean", describe: "do not create a new session keyring" };
const preserveFds: FlagSpec = { name: "preserve-fds", type: "number", default: 0, describe: "pass N additional file descriptors (3..3+N-1) to the container" };
const pidfdSocket: FlagSpec = { name: "pidfd-socket", type: "string", describe: "path to an AF_UNIX socket which will receive a pidfd of the process" };
const format: FlagSpec = { name: "format", alias: ["f"], type: "string", default: "table", describe: "output format: table or json" };

export const COMMANDS: CommandSpec[] = [
  {
    name: "create",
    describe: "create a container (its process waits for `start`)",
    usage: "create [flags] <container-id>",
    flags: [bundle, consoleSocket, pidFile, noPivot, noNewKeyring, preserveFds, pidfdSocket],
    load: () => import("./create.ts"),
  },
  {
    name: "start",
    describe: "start the user process of a created container",
    usage: "start <container-id>",
    flags: [],
    load: () => import("./start.ts"),
  },
  {
    name: "run",
    describe: "create and start a container, and wait for it unless --detach",
    usage: "run [flags] <container-id>",
    flags: [
      bundle,
      consoleSocket,
      pidFile,
      noPivot,
      noNewKeyring,
      preserveFds,
      pidfdSocket,
      { name: "detach", alias: ["d"], type: "boolean", describe: "detach from the container's process" },
      { name: "no-subreaper", type: "boolean", describe: "do not reap the processes orphaned to runts (as PR_SET_CHILD_SUBREAPER)" },
      { name: "keep", type: "boolean", describe: "do not delete the container after it exits" },
    ],
    load: () => import("./run.ts"),
  },
  {
    name: "exec",
    describe: "run a new process inside a container",
    usage: "exec [flags] <container-id> <command> [args...]  |  exec [flags] --process <process.json> <container-id>",
    flags: [
      consoleSocket,
      pidFile,
      preserveFds,
      pidfdSocket,
      { name: "process", alias: ["p"], type: "string", describe: "path to the process.json" },
      { name: "detach", alias: ["d"], type: "boolean", describe: "detach from the process (return once it runs)" },
      { name: "tty", alias: ["t"], type: "boolean", describe: "allocate a pseudo-TTY (not supported yet)" },
      { name: "cwd", type: "string", describe: "current working directory in the container" },
      { name: "env", alias: ["e"], type: "string", multiple: true, describe: "set an environment variable (NAME=VALUE), repeatable" },
      { name: "user", alias: ["u"], type: "string", describe: "uid[:gid] to run as" },
      { name: "additional-gids", alias: ["g"], type: "string", multiple: true, describe: "an additional gid, repeatable" },
      { name: "cap", alias: ["c"], type: "string", multiple: true, describe: "add a capability to every set, repeatable" },
      { name: "no-new-privs", type: "boolean", describe: "set no_new_privs for the process" },
      { name: "process-label", type: "string", describe: "SELinux label of the process (not supported yet)" },
      { name: "apparmor", type: "string", describe: "AppArmor profile of the process (not supported yet)" },
      { name: "ignore-paused", type: "boolean", describe: "exec into a paused container (the process starts frozen)" },
      { name: "cgroup", type: "string", multiple: true, describe: "sub-cgroup of the container's to run the process in" },
    ],
    stopAtPositional: true,
    load: () => import("./exec.ts"),
  },
  {
    name: "state",
    describe: "print the state of a container as JSON",
    usage: "state <container-id>",
    flags: [],
    load: () => import("./state.ts"),
  },
  {
    name: "kill",
    describe: "send a signal (default SIGTERM) to the container's init process",
    usage: "kill [flags] <container-id> [signal]",
    flags: [{ name: "all", alias: ["a"], type: "boolean", describe: "send the signal to all processes in the container" }],
    load: () => import("./kill.ts"),
  },
  {
    name: "delete",
    describe: "delete a container and everything it holds",
    usage: "delete [flags] <container-id>",
    flags: [{ name: "force", alias: ["f"], type: "boolean", describe: "kill the container first if it is still running" }],
    load: () => import("./delete.ts"),
  },
  {
    name: "list",
    describe: "list the containers under --root",
    usage: "list [flags]",
    flags: [format, { name: "quiet", alias: ["q"], type: "boolean", describe: "print only the container ids" }],
    load: () => import("./list.ts"),
  },
  {
    name: "ps",
    describe: "list the processes running in a container",
    usage: "ps [flags] <container-id> [ps options]",
    flags: [format],
    stopAtPositional: true,
    load: () => import("./ps.ts"),
  },
  {
    name: "pause",
    describe: "freeze every process of a container",
    usage: "pause <container-id>",
    flags: [],
    load: () => import("./pause.ts"),
  },
  {
    name: "resume",
    describe: "thaw a paused container",
    usage: "resume <container-id>",
    flags: [],
    load: () => import("./resume.ts"),
  },
  {
    name: "features",
    describe: "show the OCI features this build of runts implements, as JSON",
    usage: "features",
    flags: [],
    load: () => import("./features.ts"),
  },
  {
    name: "spec",
    describe: "write a new config.json into the bundle directory",
    usage: "spec [flags]",
    flags: [bundle, { name: "rootless", type: "boolean", describe: "a spec for a rootless container" }],
    load: () => import("./spec.ts"),
  },
];

/** runc's global flags; they come before the command. */
export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: "root", type: "string", describe: "directory for the containers' state (default /run/runts; rootless: $XDG_RUNTIME_DIR/runts)" },
  { name: "log", type: "string", describe: "log file (default: stderr only)" },
  { name: "log-format", type: "string", default: "text", describe: "log format: text or json" },
  { name: "debug", type: "boolean", describe: "enable debug logging" },
  { name: "systemd-cgroup", type: "boolean", describe: "use the systemd cgroup driver (not supported yet)" },
  { name: "rootless", type: "string", default: "auto", describe: "rootless mode: true, false or auto (rootless when not run as root)" },
  { name: "criu", type: "string", describe: "accepted for runc compatibility; checkpointing is not supported" },
  { name: "help", alias: ["h"], type: "boolean", describe: "show help" },
  { name: "version", alias: ["v"], type: "boolean", describe: "print the version" },
];

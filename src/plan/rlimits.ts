import { ConfigError } from "../errors.ts";
// RLIMIT_* names (getrlimit(2)) in resource-number order.
const RLIMITS = [
  "RLIMIT_CPU",
  "RLIMIT_FSIZE",
  "RLIMIT_DATA",
  "RLIMIT_STACK",
  "RLIMIT_CORE",
  "RLIMIT_RSS",
  "RLIMIT_NPROC",
  "RLIMIT_NOFILE",
  "RLIMIT_MEMLOCK",
  "RLIMIT_AS",
  "RLIMIT_LOCKS",
  "RLIMIT_SIGPENDING",
  "RLIMIT_MSGQUEUE",
  "RLIMIT_NICE",
  "RLIMIT_RTPRIO",
  "RLIMIT_RTTIME",
] as const;

export function rlimitNumber(name: string, where: string): number {
  const n = (RLIMITS as readonly string[]).indexOf(name);
  if (n < 0) throw new ConfigError(`${where}: unknown rlimit type ${JSON.stringify(name)}`);
  return n;
}

/** Signals `run` and `exec` pass on to the process they wait for, as runc does. */
const FORWARDED = [
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGTERM",
  "SIGUSR1",
  "SIGUSR2",
  "SIGALRM",
  "SIGCONT",
  "SIGWINCH",
] as const;

/** Waits for `exited` while every forwarded signal runts gets goes on to pid. */
export async function waitForwarding(pid: number, exited: Promise<number>): Promise<number> {
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {}
  };
  for (const s of FORWARDED) process.on(s, forward);
  try {
    return await exited;
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}

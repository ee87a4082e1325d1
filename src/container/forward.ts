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

/** Waits for `exited` while every forwarded signal runts gets, but those in `except`, goes on to pid. */
export async function waitForwarding(pid: number, exited: Promise<number>, except: readonly string[] = []): Promise<number> {
  const forwarded = FORWARDED.filter((s) => !except.includes(s));
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {}
  };
  for (const s of forwarded) process.on(s, forward);
  try {
    return await exited;
  } finally {
    for (const s of forwarded) process.off(s, forward);
  }
}

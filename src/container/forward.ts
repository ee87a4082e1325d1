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

/**
 * Catches every forwarded signal but those in `except` from the moment it is made, as runc's
 * signal handler does before it starts the process: one that arrives before `to(pid)` waits and
 * goes on then, instead of killing runts while the process starts.
 */
export class SignalForwarder {
  private pid: number | undefined;
  private readonly pending: NodeJS.Signals[] = [];
  private readonly signals: readonly NodeJS.Signals[];
  private readonly handler = (sig: NodeJS.Signals) => {
    if (this.pid === undefined) this.pending.push(sig);
    else this.send(sig);
  };

  constructor(except: readonly string[] = []) {
    this.signals = FORWARDED.filter((s) => !except.includes(s));
    for (const s of this.signals) process.on(s, this.handler);
  }

  /** From now on signals go to pid, those caught so far first. */
  to(pid: number): void {
    this.pid = pid;
    for (const s of this.pending.splice(0)) this.send(s);
  }

  stop(): void {
    for (const s of this.signals) process.off(s, this.handler);
  }

  /** Forwards to pid until `exited` settles, then stops. */
  async forwardUntil(pid: number, exited: Promise<number>): Promise<number> {
    this.to(pid);
    try {
      return await exited;
    } finally {
      this.stop();
    }
  }

  private send(sig: NodeJS.Signals): void {
    try {
      process.kill(this.pid!, sig);
    } catch {}
  }
}

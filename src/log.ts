import { O, writeText } from "./libc.ts";
import { writeStderr } from "./stdio.ts";

export type LogFormat = "text" | "json";
export type Level = "debug" | "info" | "warning" | "error";

/** runc-compatible logging: text on stderr, and `--log FILE` in text or logrus-style JSON lines
 * (`{"level","msg","time"}`), whose last error line is what container managers show users. */
export class Logger {
  constructor(
    private readonly file: string | undefined,
    private readonly format: LogFormat,
    private readonly debugEnabled: boolean,
  ) {}

  debug(msg: string): void {
    if (this.debugEnabled) this.write("debug", msg, false);
  }
  info(msg: string): void {
    this.write("info", msg, false);
  }
  warn(msg: string): void {
    this.write("warning", msg, true);
  }
  /** Errors always reach stderr too: a person running runts by hand must see them. */
  error(msg: string): void {
    this.write("error", msg, true);
  }

  private write(level: Level, msg: string, toStderr: boolean): void {
    const time = new Date().toISOString();
    if (this.file) {
      const line =
        this.format === "json"
          ? JSON.stringify({ level, msg, time }) + "\n"
          : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
      try {
        writeText(this.file, line, O.WRONLY | O.CREAT | O.APPEND);
      } catch {
        writeStderr(`runts: cannot write log file ${this.file}\n`);
      }
    }
    if (toStderr || (!this.file && this.debugEnabled)) {
      writeStderr(level === "error" ? `runts: ${msg}\n` : `runts: ${level}: ${msg}\n`);
    }
  }
}

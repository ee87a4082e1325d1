let names: Map<number, string> | undefined;

/**
 * EPERM for 1, ...: loaded on first use, so a command that does not fail does not pay for
 * node:os. Of two names for one number (EAGAIN and EWOULDBLOCK), the one strerror words.
 */
function errnoName(errno: number): string | undefined {
  if (!names) {
    names = new Map();
    for (const [name, num] of Object.entries(errnoNumbers())) if (!names.has(num) || name in messages) names.set(num, name);
  }
  return names.get(errno);
}

function errnoNumbers(): Record<string, number> {
  return process.getBuiltinModule("node:os").constants.errno as Record<string, number>;
}

/**
 * A failure with the context a user needs: what was being done, on what, and the errno; and
 * the config.json field it was carrying out, when there is one. The message is worded when it
 * is read: most SysErrors are expected (EEXIST, ENOENT) and caught, and wording one loads the
 * errno names.
 */
export class RuntsError extends Error {
  constructor(
    readonly op: string,
    readonly path = "",
    readonly errno = 0,
    readonly detail = "",
    readonly field = "",
  ) {
    super();
  }
}
Object.defineProperty(RuntsError.prototype, "message", {
  configurable: true,
  get(this: RuntsError): string {
    return (this.field ? `config.json: ${this.field}: ` : "") + formatError(this.op, this.path, this.errno, this.detail);
  },
});

export function formatError(op: string, path: string, errno: number, detail: string): string {
  let msg = op;
  if (path) msg += ` ${JSON.stringify(path)}`;
  if (detail) msg += `: ${detail}`;
  if (errno) msg += `: ${strerror(errno)} (${errnoName(errno) ?? "errno " + errno})`;
  return msg;
}

const messages: Record<string, string> = {
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  ESRCH: "no such process",
  EINTR: "interrupted system call",
  EIO: "input/output error",
  ENXIO: "no such device or address",
  E2BIG: "argument list too long",
  ENOEXEC: "exec format error",
  EBADF: "bad file descriptor",
  ECHILD: "no child processes",
  EAGAIN: "resource temporarily unavailable",
  ENOMEM: "cannot allocate memory",
  EACCES: "permission denied",
  EBUSY: "device or resource busy",
  EEXIST: "file exists",
  EXDEV: "invalid cross-device link",
  ENODEV: "no such device",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  EINVAL: "invalid argument",
  ENFILE: "too many open files in system",
  EMFILE: "too many open files",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  EPIPE: "broken pipe",
  ERANGE: "numerical result out of range",
  ENAMETOOLONG: "file name too long",
  ENOSYS: "function not implemented",
  ELOOP: "too many levels of symbolic links",
  EPROTO: "protocol error",
  EOPNOTSUPP: "operation not supported",
  ETIMEDOUT: "timed out",
};

export function strerror(errno: number): string {
  return messages[errnoName(errno) ?? ""] ?? `errno ${errno}`;
}

/** The errno of a Node/Bun system error (err.errno is negative there), or 0. */
export function errnoOf(err: unknown): number {
  const e = err as { errno?: number; code?: string };
  if (typeof e?.errno === "number") return Math.abs(e.errno);
  if (typeof e?.code === "string") return errnoNumbers()[e.code] ?? 0;
  return 0;
}

/** Wraps a Node/Bun system error thrown by fn into a RuntsError naming op and path. */
export function wrapSys<T>(op: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RuntsError && !(err instanceof SysError)) throw err;
    const errno = errnoOf(err);
    throw new RuntsError(op, path, errno, errno ? "" : String((err as Error)?.message ?? err));
  }
}

/** A failed syscall from libc.ts; wrapSys gives it the caller's wording. */
export class SysError extends RuntsError {
  constructor(syscall: string, path: string, errno: number) {
    super(syscall, path, errno);
  }
}

/** A config.json value runts cannot honour; the message starts with the JSON path. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(`config.json: ${message}`);
  }
}

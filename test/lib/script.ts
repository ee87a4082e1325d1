/** Shell scripts run in a container by integration tests, and their `KEY=value` output. */
import type { Runtime } from "./harness";

/**
 * args for a shell script in the container. The script may call `w PATH DATA`, which writes
 * (creating the file if need be) and prints "ok", "EROFS" or "error: <message>".
 */
export const sh = (script: string): string[] => [
  "/bin/sh",
  "-c",
  'w() { if out=$( (echo "$2" > "$1") 2>&1 ); then echo ok; else case "$out" in *"Read-only file system"*) echo EROFS;; *) echo "error: $out";; esac; fi; }; ' +
    script,
];

/** Lines "KEY=value" of a script's stdout as a record. */
export function keyed(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0 && /^[A-Z_0-9]+$/.test(line.slice(0, eq))) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** keyed() output tagged with the runtime's name, for readable failures. */
export function tagged(rt: Runtime, stdout: string): Record<string, string | undefined> {
  return { rt: rt.name, ...keyed(stdout) };
}

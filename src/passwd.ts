/** The /etc/passwd entry of uid in text, or undefined. */
export function passwdEntry(text: string | undefined, uid: number): { name: string; home: string } | undefined {
  for (const line of (text ?? "").split("\n")) {
    const f = line.split(":");
    if (f.length >= 7 && f[2] === String(uid)) return { name: f[0]!, home: f[5]! };
  }
  return undefined;
}

/**
 * A network client and server for test/integration/network.test.ts, run with Bun under
 * `nsenter --net=...` in the test's network namespaces:
 *   tcp HOST PORT MESSAGE    send MESSAGE, print what comes back until the peer closes (or 3 s)
 *   udp HOST PORT MESSAGE    send one datagram, print the first answer (or fail after 3 s)
 *   whoami PORT              TCP server on 0.0.0.0:PORT: answers each connection with the
 *                            peer's address and closes; prints "listening" when ready
 */
import { createSocket } from "node:dgram";
import { connect, createServer } from "node:net";

const [mode, a, b, msg] = process.argv.slice(2);
const fail = (why: string) => {
  process.stderr.write(`net-tool: ${why}\n`);
  process.exit(1);
};
setTimeout(() => mode !== "whoami" && fail("timed out"), 3000).unref?.();

if (mode === "tcp") {
  let got = "";
  const s = connect({ host: a!, port: Number(b) }, () => s.end(msg));
  s.on("data", (d) => (got += d.toString()));
  s.on("close", () => {
    process.stdout.write(got);
    process.exit(0);
  });
  s.on("error", (e) => fail(String(e)));
} else if (mode === "udp") {
  const s = createSocket("udp4");
  s.on("message", (d) => {
    process.stdout.write(d.toString());
    process.exit(0);
  });
  s.send(msg!, Number(b), a!);
} else if (mode === "whoami") {
  const srv = createServer((c) => c.end(`${c.remoteAddress}\n`));
  srv.listen(Number(a), "0.0.0.0", () => process.stdout.write("listening\n"));
} else {
  fail(`unknown mode ${mode}`);
}

// Bundles src/main.ts into the single executable dist/runts (Bun, bytecode, minified, split
// into one chunk per command so that a command loads only its own code). koffi's native
// engine is embedded as a file (an entry point: Bun.embeddedFiles).
import { existsSync } from "node:fs";

/**
 * Profiles of the bytecode each command runs (scripts/record-bytecode-order.sh), most
 * common first: Bun places that bytecode at the front of the executable, so a call reads
 * and decodes less of it. A missing profile only loses that layout.
 */
const ORDER = ["create", "start", "delete", "state", "kill", "exec"]
  .map((cmd) => `scripts/bytecode-order/${cmd}.order`)
  .filter((f) => existsSync(f));

const result = await Bun.build({
  // koffi's engine as an embedded file (Bun.embeddedFiles), which src/sys.ts loads from a memfd.
  entrypoints: ["src/main.ts", "node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node"],
  compile: {
    outfile: process.env.RUNTS_BUNDLE_OUT ?? "dist/runts",
    // A bunfig.toml or .env in the caller's cwd (a bundle directory, say) must not configure
    // runts: bunfig's `preload` would run that directory's JavaScript as root.
    autoloadBunfig: false,
    autoloadDotenv: false,
    // Every runts call is a short burst of run-once code: the JIT's compiling costs more than
    // it gains (start, state, delete ~2 ms each, create ~3 ms). runts has no long-running
    // JavaScript to give the JIT back to (the pty relay is runts-init's), so the scale stays.
    jitPolicy: 1_000_000,
    bytecodeOrder: ORDER.length ? ORDER : null,
  },
  splitting: true,
  bytecode: true,
  minify: true,
  format: "esm",
  target: "bun",
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}

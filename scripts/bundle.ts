// Bundles src/main.ts into the single executable dist/runts (Bun, bytecode, minified, split
// into one chunk per command so that a command loads only its own code). koffi's native
// engine is embedded as a file (an entry point: Bun.embeddedFiles).
export {}; // a module, for top-level await

const result = await Bun.build({
  // koffi's engine as an embedded file (Bun.embeddedFiles), which src/sys.ts loads from a memfd.
  entrypoints: ["src/main.ts", "node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node"],
  // A bunfig.toml or .env in the caller's cwd (a bundle directory, say) must not configure
  // runts: bunfig's `preload` would run that directory's JavaScript as root.
  compile: { outfile: "dist/runts", autoloadBunfig: false, autoloadDotenv: false },
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

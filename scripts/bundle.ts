// Bundles src/main.ts into the single executable dist/runts (Bun, bytecode, minified).
// koffi's loader requires its prebuilt .node file through createRequire and a computed path, which a
// bundler cannot follow; this plugin points it at the glibc x64 binary by a literal
// path so that the binary is embedded in the executable.
import type { BunPlugin } from "bun";

const koffiNative: BunPlugin = {
  name: "koffi-native",
  setup(build) {
    build.onLoad({ filter: /koffi\/src\/koffi\/src\/static\.js$/ }, () => ({
      contents: `export function loadStatic(pkg) {
        return pkg === "linux-x64" ? require("../../../../@koromix/koffi-linux-x64/linux_x64/koffi.node") : null;
      }`,
      loader: "js",
    }));
  },
};

const result = await Bun.build({
  entrypoints: ["src/main.ts"],
  // A bunfig.toml or .env in the caller's cwd (a bundle directory, say) must not configure
  // runts: bunfig's `preload` would run that directory's JavaScript as root.
  compile: { outfile: "dist/runts", autoloadBunfig: false, autoloadDotenv: false },
  splitting: true,
  bytecode: true,
  minify: true,
  format: "esm",
  target: "bun",
  plugins: [koffiNative],
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}

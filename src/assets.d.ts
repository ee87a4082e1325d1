// Files embedded into the compiled executable (Bun's `with { type: "file" }` imports).
declare module "*/runts-init" {
  const path: string;
  export default path;
}

// A Node-API addon (koffi's engine), embedded and loaded by Bun.
declare module "*.node" {
  const addon: unknown;
  export default addon;
}

// Files embedded into the compiled executable (Bun's `with { type: "file" }` imports).
declare module "*/runts-init" {
  const path: string;
  export default path;
}


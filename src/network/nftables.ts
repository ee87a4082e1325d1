// libnftables (Debian libnftables1) through koffi: runs the commands of nft.ts, each batch
// one transaction, in runts's own network namespace.
// Only create imports it (through make-bridge.ts), which loads koffi's engine anyway.
import { RuntsError } from "../errors.ts";
import { koffi } from "../sys.ts";

interface Nft {
  ctx: unknown;
  run(ctx: unknown, cmd: string): number;
  errors(ctx: unknown): string;
}

let nft: Nft | undefined;


function load(): Nft {
  if (nft) return nft;
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load("libnftables.so.1");
  } catch (err) {
    throw new RuntsError("load libnftables.so.1", "", 0, `${(err as Error).message} (install the Debian package libnftables1)`);
  }
  const ctxNew = lib.func("void *nft_ctx_new(uint32_t flags)");
  const ctx = ctxNew(0);
  if (!ctx) throw new RuntsError("nft_ctx_new", "", 0, "libnftables could not make a context");
  lib.func("int nft_ctx_buffer_output(void *ctx)")(ctx);
  lib.func("int nft_ctx_buffer_error(void *ctx)")(ctx);
  nft = {
    ctx,
    run: lib.func("int nft_run_cmd_from_buffer(void *ctx, const char *buf)"),
    errors: lib.func("const char *nft_ctx_get_error_buffer(void *ctx)"),
  };
  return nft;
}

/** Runs one batch; the first line of what libnftables says goes into the error. */
export function runNft(what: string, subject: string, batch: string): void {
  if (!batch) return;
  const n = load();
  if (n.run(n.ctx, batch) !== 0) {
    const text = n.errors(n.ctx).trim().split("\n")[0] ?? "";
    throw new RuntsError(what, subject, 0, `nftables: ${text || "failed"}`);
  }
}

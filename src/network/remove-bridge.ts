// runts's bridge goes with its last container: the link and its nftables table, through
// netlink only (delete loads neither koffi nor libnftables).
import type { RuntsError } from "../errors.ts";
import { tableName } from "./nft.ts";
import { deleteTableBatch } from "./nft-netlink.ts";
import { openNfnl, type Rtnl } from "./rtnl.ts";

const ENOENT = 2;

/** Removes the bridge and its table; either may be gone already. */
export function removeBridge(host: Rtnl, name: string): void {
  host.deleteLink(name);
  const nf = openNfnl();
  try {
    nf.batch("delete nftables table", tableName(name), deleteTableBatch(name, nf.nextSeq()));
  } catch (err) {
    if ((err as RuntsError).errno !== ENOENT) throw err;
  } finally {
    nf.close();
  }
}

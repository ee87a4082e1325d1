// The first container of a bridge makes it, in runts's own network namespace: the link with
// the gateway address, the sysctls it needs, and its nftables table (libnftables: create
// only). remove-bridge.ts undoes it.
import { RuntsError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { O, readTextIfAny, writeText } from "../libc.ts";
import { broadcast, formatIpv4, formatSubnet, gateway, type Subnet } from "./ipv4.ts";
import * as nl from "./netlink.ts";
import { tableCommands, tableName } from "./nft.ts";
import { runNft } from "./nftables.ts";
import { removeBridge } from "./remove-bridge.ts";
import type { Rtnl } from "./rtnl.ts";

function sysctl(path: string, value: string, log: Logger): void {
  if (readTextIfAny(path)?.trim() === value) return;
  try {
    writeText(path, value, O.WRONLY);
  } catch (err) {
    throw new RuntsError("set sysctl", path, (err as RuntsError).errno ?? 0);
  }
  log.debug(`network: set ${path.replace("/proc/sys/", "").replaceAll("/", ".")} = ${value}`);
}

/** Makes the bridge: a link of that name must not exist (runts does not adopt links it did not make). */
export function makeBridge(host: Rtnl, name: string, subnet: Subnet, log: Logger): void {
  if (host.linkIndex(name) !== undefined) {
    throw new RuntsError("annotation run.runts.network", "", 0, `a link named ${name} exists that runts did not make: name another bridge`);
  }
  try {
    host.request("create bridge", name, nl.newBridge(host.nextSeq(), name));
    const index = host.linkIndex(name)!;
    host.request("set bridge address", name, nl.newAddress(host.nextSeq(), index, formatIpv4(gateway(subnet)), subnet.prefix, formatIpv4(broadcast(subnet))));
    // DNAT of 127.0.0.1 to a container routes a loopback source out of the bridge.
    sysctl(`/proc/sys/net/ipv4/conf/${name}/route_localnet`, "1", log);
    // Forwarding for the containers' outbound traffic (global: replies come in elsewhere).
    sysctl("/proc/sys/net/ipv4/ip_forward", "1", log);
    runNft("create nftables table", tableName(name), tableCommands(name, subnet));
  } catch (err) {
    removeBridge(host, name);
    throw err;
  }
  log.debug(`network: made bridge ${name} with subnet ${formatSubnet(subnet)}, gateway ${formatIpv4(gateway(subnet))}`);
}

// create's half of runts's networking: reserve an address (making the bridge if it is the
// first), write the container's /etc files, and at runts-init's MSG_NETNS make the veth
// pair, configure eth0 through the socket runts-init opened in the container's namespace,
// and publish the ports.
import { RuntsError, wrapSys } from "../errors.ts";
import type { Logger } from "../log.ts";
import { readText, readTextIfAny, writeText } from "../libc.ts";
import type { PlanOp } from "../helper/protocol.ts";
import { ATTR, TARGET } from "../plan/mounts.ts";
import { makeBridge } from "./make-bridge.ts";
import { ETC_FILES, hostnameFile, hostsFile, resolvConf } from "./etc-files.ts";
import { allocate, portText, type Allocation } from "./ipam.ts";
import { withIpam } from "./ipam-store.ts";
import { broadcast, formatIpv4, gateway, routesOf, type Subnet } from "./ipv4.ts";
import * as nl from "./netlink.ts";
import { publishBatch } from "./nft-netlink.ts";
import { tableName } from "./nft.ts";
import { ANNOTATION, type NetworkRequest } from "./request.ts";
import { closeFd, openNfnl, openRtnl, Rtnl } from "./rtnl.ts";
import { receiveFd } from "../sys.ts";

export interface Reserved {
  allocation: Allocation;
  subnet: Subnet;
}

/** Allocates the container's address and host ports, under the IPAM lock; makes the bridge if new. */
export function reserve(root: string, id: string, req: NetworkRequest, log: Logger): Reserved {
  return withIpam(root, (state, save) => {
    const a = allocate(state, id, req, () => routesOf(readText("/proc/net/route")));
    // Saved first: a create killed from here on leaves a record that delete --force undoes.
    save(a.state);
    if (a.newBridge) {
      const host = openRtnl();
      try {
        makeBridge(host, req.bridge, a.subnet, log);
      } catch (err) {
        save(state);
        throw err;
      } finally {
        host.close();
      }
    }
    log.debug(`network: container ${id} gets ${a.allocation.ip} on ${req.bridge}`);
    return { allocation: a.allocation, subnet: a.subnet };
  });
}

/** The annotations `state` and `list` show: the bridge, the address, the published ports. */
export function networkAnnotations(r: Reserved): Record<string, string> {
  const out: Record<string, string> = { [ANNOTATION.network]: r.allocation.bridge, [ANNOTATION.ip]: r.allocation.ip };
  if (r.allocation.ports.length) {
    out[ANNOTATION.ports] = r.allocation.ports.map((p) => `${p.hostIp ? `${p.hostIp}:` : ""}${p.hostPort}:${p.containerPort}/${p.protocol}`).join(",");
  }
  return out;
}

/**
 * Writes hosts, hostname and resolv.conf into the state directory; the ops bind-mount them
 * read-only, each unless the config mounts something at that path itself.
 */
export function etcFileOps(stateDir: string, name: string, ip: string, configMounts: string[], log: Logger): PlanOp[] {
  const host = resolvConf(readTextIfAny("/etc/resolv.conf") ?? "");
  if (host.dropped.length) {
    log.debug(`network: /etc/resolv.conf: left out loopback nameserver ${host.dropped.join(", ")} (it cannot answer from the container's network namespace)`);
  }
  const text: Record<(typeof ETC_FILES)[number], string> = {
    "/etc/hosts": hostsFile(name, ip),
    "/etc/hostname": hostnameFile(name),
    "/etc/resolv.conf": host.text,
  };
  const ops: PlanOp[] = [];
  for (const dest of ETC_FILES) {
    if (configMounts.includes(dest)) continue;
    const source = `${stateDir}/${dest.slice("/etc/".length)}`;
    wrapSys("write", source, () => writeText(source, text[dest]));
    const origin = `annotation ${ANNOTATION.network} (${dest})`;
    ops.push({ op: "BIND", args: [source, dest, 0, TARGET.FILE], origin }, { op: "SETATTR", args: [dest, ATTR.RDONLY, 0, 0, 0], origin });
  }
  return ops;
}

function publish(a: Allocation): void {
  if (!a.ports.length) return;
  const nf = openNfnl();
  try {
    nf.batch("publish ports", tableName(a.bridge), publishBatch(a, nf.nextSeq()));
  } catch (err) {
    const e = err as RuntsError;
    // EEXIST: a key held outside this runts root's IPAM (another root on the same bridge name).
    throw new RuntsError(`annotation ${ANNOTATION.ports}`, "", e.errno, `publish ${a.ports.map(portText).join(", ")} in nftables table ${tableName(a.bridge)}`);
  } finally {
    nf.close();
  }
}

/**
 * At MSG_NETNS: the veth pair (its peer made as eth0 straight in the container's network
 * namespace), eth0's address, link and default route, then the published ports.
 */
export function configure(sock: number, r: Reserved): void {
  const nlFd = receiveFd(sock, "network namespace socket");
  let nsFd: number;
  try {
    nsFd = receiveFd(sock, "network namespace");
  } catch (err) {
    closeFd(nlFd);
    throw err;
  }
  const a = r.allocation;
  const host = openRtnl();
  const inside = new Rtnl(nlFd, "container");
  try {
    const bridge = host.linkIndex(a.bridge);
    if (bridge === undefined) throw new RuntsError("attach to bridge", a.bridge, 0, "the bridge is gone");
    host.request("create veth pair", a.veth, nl.newVeth(host.nextSeq(), a.veth, bridge, "eth0", nsFd));
    const eth0 = inside.linkIndex("eth0");
    if (eth0 === undefined) throw new RuntsError("find eth0", "", 0, "the veth peer is not in the container's network namespace");
    inside.request("set eth0 address", a.ip, nl.newAddress(inside.nextSeq(), eth0, a.ip, r.subnet.prefix, formatIpv4(broadcast(r.subnet))));
    inside.request("set eth0 up", "eth0", nl.linkUp(inside.nextSeq(), eth0));
    const gw = formatIpv4(gateway(r.subnet));
    inside.request("add default route", gw, nl.newDefaultRoute(inside.nextSeq(), eth0, gw));
    publish(a);
  } finally {
    host.close();
    inside.close();
    closeFd(nsFd);
  }
}

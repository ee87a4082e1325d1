/**
 * runts's built-in networking (issue 13): bridge, veth, IPAM, published ports, masquerade,
 * generated /etc files, and exact cleanup. Every test runs runts inside a throwaway network
 * namespace that plays the host (`nsenter --net=/run/netns/NAME`, not `ip netns exec`, which
 * remounts /sys); a second one, "outside", is the world beyond the host's 192.0.2.1/24
 * (TEST-NET-1). The machine's own network and firewall are never touched.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { REPO, requireRoot, RUNTS, runtime, type RunResult, spawnRuntime, uniqueId, waitFor } from "../lib/harness";
import { type Bundle, makeBundle, testRootfs } from "../lib/rootfs";

const HOST = `rtn-h${process.pid}`;
const OUTSIDE = `rtn-o${process.pid}`;
const HOST_IP = "192.0.2.1";
const OUTSIDE_IP = "192.0.2.2";
const ROOT = `/run/runts-net-${process.pid}`;
const NET_TOOL = path.join(REPO, "test/lib/net-tool.ts");

let rootfs = "";
let scratch = "";
const bundles: Bundle[] = [];
const ids: string[] = [];
const stoppers: (() => void)[] = [];

function sh(cmd: string[], input?: string): string {
  return execFileSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", input });
}

/** Runs in the namespace that plays the host. */
function inHost(cmd: string[], timeoutMs = 20_000): RunResult {
  return runtime("nsenter", [`--net=/run/netns/${HOST}`, ...cmd], { timeoutMs });
}

function runts(args: string[], timeoutMs = 20_000): RunResult {
  return inHost([RUNTS, "--root", ROOT, ...args], timeoutMs);
}

function ok(r: RunResult): RunResult {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r;
}

function newId(prefix = "net"): string {
  const id = uniqueId(prefix);
  ids.push(id);
  return id;
}

/** A bundle on the shared network rootfs (busybox, probe, udp-echo) running args. */
function bundle(args: string[], config?: (c: any) => void): Bundle {
  const b = makeBundle({
    rootfs: "shared",
    config: (c) => {
      c.root = { path: rootfs, readonly: true };
      c.process.args = args;
      config?.(c);
    },
  });
  b.write();
  bundles.push(b);
  return b;
}

/** ip link, the whole nft ruleset and the IPAM state of the host namespace. */
function snapshot(): { links: string; nft: string; ipam: string } {
  // Without ifindexes and operational states (a bridge is UP only while it has a port up).
  const links = ok(inHost(["ip", "-o", "link", "show"])).stdout.replace(/^\d+: /gm, "").replace(/ state \S+/g, "");
  const nft = ok(inHost(["nft", "list", "ruleset"])).stdout;
  const file = `${ROOT}/.network/ipam.json`;
  const raw = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : { bridges: {}, containers: {} };
  return { links, nft, ipam: JSON.stringify(raw) };
}

function ipOf(id: string): string {
  const s = JSON.parse(ok(runts(["state", id])).stdout);
  return s.annotations["run.runts.ip"];
}

/** Starts a detached container (run -d) and returns its id. */
function runDetached(args: string[], extra: string[] = [], config?: (c: any) => void): string {
  const id = newId();
  const b = bundle(args, config);
  ok(runts(["run", "-d", "-b", b.dir, ...extra, id]));
  return id;
}

function netTool(ns: string, args: string[]): RunResult {
  return runtime("nsenter", [`--net=/run/netns/${ns}`, process.execPath, NET_TOOL, ...args], { timeoutMs: 10_000 });
}

/** Retries a client until the server in a just-started container answers. */
async function answered(what: string, call: () => RunResult, want: string): Promise<string> {
  let last: RunResult | undefined;
  await waitFor(what, () => {
    last = call();
    return last.code === 0 && last.stdout.includes(want);
  }, 8_000, 100).catch((e) => {
    throw new Error(`${e.message}: last answer ${JSON.stringify(last?.stdout)} ${last?.stderr}`);
  });
  return last!.stdout;
}

beforeAll(() => {
  requireRoot();
  scratch = mkdtempSync("/tmp/runts-net-");
  rootfs = path.join(scratch, "rootfs");
  sh(["cp", "-a", testRootfs(), rootfs]);
  for (const f of ["hosts", "hostname", "resolv.conf"]) writeFileSync(path.join(rootfs, "etc", f), "");
  sh(["gcc", "-static", "-O2", "-o", path.join(rootfs, "bin/udp-echo"), path.join(REPO, "test/probe/udp-echo.c")]);
  mkdirSync(ROOT, { recursive: true });
  sh(["ip", "netns", "add", HOST]);
  sh(["ip", "netns", "add", OUTSIDE]);
  sh(["ip", "-n", HOST, "link", "set", "lo", "up"]);
  sh(["ip", "-n", OUTSIDE, "link", "set", "lo", "up"]);
  sh(["ip", "-n", HOST, "link", "add", "uplink", "type", "veth", "peer", "name", "uplink", "netns", OUTSIDE]);
  sh(["ip", "-n", HOST, "addr", "add", `${HOST_IP}/24`, "dev", "uplink"]);
  sh(["ip", "-n", OUTSIDE, "addr", "add", `${OUTSIDE_IP}/24`, "dev", "uplink"]);
  sh(["ip", "-n", HOST, "link", "set", "uplink", "up"]);
  sh(["ip", "-n", OUTSIDE, "link", "set", "uplink", "up"]);
});

afterEach(() => {
  for (const stop of stoppers.splice(0)) stop();
  for (const id of ids.splice(0)) runts(["delete", "-f", id]);
  for (const b of bundles.splice(0)) b.cleanup();
});

afterAll(() => {
  spawnSync("ip", ["netns", "del", HOST]);
  spawnSync("ip", ["netns", "del", OUTSIDE]);
  rmSync(ROOT, { recursive: true, force: true });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const TCP_ECHO = ["/bin/nc", "-ll", "-p", "80", "-e", "/bin/cat"];

describe("connectivity", () => {
  test("two containers on the bridge reach each other by IP (TCP echo with busybox nc)", () => {
    const server = runDetached(TCP_ECHO, ["--network", "runts0"]);
    const ip = ipOf(server);
    expect(ip).toMatch(/^10\.\d+\.\d+\.\d+$/);
    const client = newId();
    const b = bundle(["/bin/sh", "-c", `for i in 1 2 3 4 5 6 7 8 9 10; do echo hello-peer | nc ${ip} 80 && exit 0; sleep 0.2; done; exit 1`]);
    const r = runts(["run", "-b", b.dir, "--network", "runts0", client]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hello-peer\n");
    expect(r.code).toBe(0);
    expect(ipOf(server)).toBe(ip);
  });

  test("a published TCP port reaches the container from the host's address and from 127.0.0.1", async () => {
    runDetached(TCP_ECHO, ["-p", "8080:80"]);
    expect(await answered("TCP via 127.0.0.1", () => netTool(HOST, ["tcp", "127.0.0.1", "8080", "via-loopback"]), "via-loopback")).toBe("via-loopback");
    expect(await answered("TCP via the host address", () => netTool(HOST, ["tcp", HOST_IP, "8080", "via-host"]), "via-host")).toBe("via-host");
    // And from another machine (the outside namespace) to the host's address.
    expect(await answered("TCP from outside", () => netTool(OUTSIDE, ["tcp", HOST_IP, "8080", "from-outside"]), "from-outside")).toBe("from-outside");
  });

  test("UDP publishing, on every host address and on 127.0.0.1 only", async () => {
    runDetached(["/bin/udp-echo", "53"], [], (c) => (c.annotations = { "run.runts.ports": "5353:53/udp,127.0.0.1:5354:53/udp" }));
    expect(await answered("UDP via the host address", () => netTool(HOST, ["udp", HOST_IP, "5353", "u1"]), "echo:u1")).toBe("echo:u1");
    expect(await answered("UDP via 127.0.0.1", () => netTool(HOST, ["udp", "127.0.0.1", "5354", "u2"]), "echo:u2")).toBe("echo:u2");
    // 5354 is published on 127.0.0.1 only.
    expect(netTool(HOST, ["udp", HOST_IP, "5354", "u3"]).code).not.toBe(0);
  });

  test("outbound traffic to the outside is masqueraded behind the host's address", async () => {
    const server = spawnRuntime("nsenter", [`--net=/run/netns/${OUTSIDE}`, process.execPath, NET_TOOL, "whoami", "9000"], { timeoutMs: 60_000 });
    stoppers.push(() => server.signal("SIGKILL"));
    await waitFor("whoami server", () => server.stdoutSoFar().includes("listening"));
    const id = newId();
    const b = bundle(["/bin/sh", "-c", `nc ${OUTSIDE_IP} 9000 </dev/null`]);
    const r = runts(["run", "-b", b.dir, "--network", "runts0", id]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(HOST_IP);
  });

  test("20 concurrent creates get 20 distinct addresses", async () => {
    const b = bundle(["/bin/true"]);
    const mine = Array.from({ length: 20 }, () => newId("par"));
    const runs = mine.map((id) =>
      spawnRuntime("nsenter", [`--net=/run/netns/${HOST}`, RUNTS, "--root", ROOT, "create", "-b", b.dir, "--network", "runts0", id], { timeoutMs: 60_000 }),
    );
    const results = await Promise.all(runs.map((r) => r.result));
    for (const r of results) expect(r.stderr).toBe("");
    const ips = mine.map(ipOf);
    expect(new Set(ips).size).toBe(20);
    const ipam = JSON.parse(readFileSync(`${ROOT}/.network/ipam.json`, "utf8"));
    expect(Object.keys(ipam.containers).sort()).toEqual([...mine].sort());
  }, 120_000);
});

describe("inside the container", () => {
  test("read-only /etc/hosts, /etc/hostname and the host's /etc/resolv.conf; state and list show the IP", () => {
    const id = newId();
    const b = bundle(["/bin/sh", "-c", "cat /etc/hosts; echo ---; cat /etc/hostname; echo ---; cat /etc/resolv.conf; echo ---; echo x >> /etc/hosts && echo writable"], (c) => {
      c.hostname = "web";
      c.root.readonly = false;
    });
    ok(runts(["create", "-b", b.dir, "--network", "runts0", id]));
    const ip = ipOf(id);
    const list = ok(runts(["list"])).stdout;
    expect(list.split("\n")[0]).toMatch(/\bIP$/);
    expect(list).toContain(ip);
    const listJson = JSON.parse(ok(runts(["list", "-f", "json"])).stdout);
    expect(listJson.find((s: any) => s.id === id).annotations["run.runts.ip"]).toBe(ip);
    const started = spawnRuntime("nsenter", [`--net=/run/netns/${HOST}`, RUNTS, "--root", ROOT, "start", id]);
    return started.result.then(async () => {
      const out = await waitFor("container output", () => {
        const s = runts(["state", id]);
        return JSON.parse(s.stdout).status === "stopped";
      }).then(() => readFileSync(`${ROOT}/${id}/hosts`, "utf8"));
      expect(out).toBe(`127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${ip}\tweb\n`);
      expect(readFileSync(`${ROOT}/${id}/hostname`, "utf8")).toBe("web\n");
      const host = readFileSync("/etc/resolv.conf", "utf8");
      const expected = host.split("\n").filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l)).join("\n");
      expect(readFileSync(`${ROOT}/${id}/resolv.conf`, "utf8")).toBe(expected);
    });
  });

  test("without a hostname in the config the name is the container id", () => {
    const id = newId();
    const b = bundle(["/bin/sh", "-c", "cat /etc/hostname; cat /etc/hosts | tail -1; touch /etc/hosts 2>/dev/null && echo writable || echo read-only"], (c) => delete c.hostname);
    const r = runts(["run", "-b", b.dir, "--network", "runts0", id]);
    expect(r.stderr).toBe("");
    const [hostname, hostsLine, rw] = r.stdout.split("\n");
    expect(hostname).toBe(id);
    expect(hostsLine).toMatch(new RegExp(`^10\\.\\d+\\.\\d+\\.\\d+\\t${id}$`));
    expect(rw).toBe("read-only");
  });

  test("a config that mounts its own /etc/hosts keeps it", () => {
    const id = newId();
    const own = path.join(scratch, "own-hosts");
    writeFileSync(own, "1.2.3.4 mine\n");
    const b = bundle(["/bin/cat", "/etc/hosts"], (c) => c.mounts.push({ destination: "/etc/hosts", type: "bind", source: own, options: ["bind", "ro"] }));
    const r = runts(["run", "-b", b.dir, "--network", "runts0", id]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("1.2.3.4 mine\n");
  });
});

describe("cleanup", () => {
  test("after delete the links, the nft ruleset and the IPAM state are exactly as before", () => {
    const before = snapshot();
    const id = runDetached(TCP_ECHO, ["-p", "8081:80"]);
    const during = snapshot();
    expect(during.links).toContain("runts0");
    expect(during.nft).toContain("table ip runts-runts0");
    ok(runts(["delete", "-f", id]));
    expect(snapshot()).toEqual(before);
  });

  test("a failed create (after eth0 is configured) leaves everything as before, with and without another container", () => {
    for (const keep of [false, true]) {
      if (keep) runDetached(TCP_ECHO, ["-p", "8082:80"]);
      const before = snapshot();
      const id = newId();
      const b = bundle(["/no/such/program"]);
      const r = runts(["create", "-b", b.dir, "-p", "9999:80", id]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("/no/such/program");
      expect(snapshot()).toEqual(before);
    }
  });

  test("delete -f of a create SIGKILLed while it held the network leaves everything as before", async () => {
    const before = snapshot();
    const id = newId();
    const marker = path.join(scratch, `hook-${id}`);
    const b = bundle(["/bin/true"], (c) => (c.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", `touch ${marker}; sleep 30`] }] }));
    const create = spawnRuntime("nsenter", [`--net=/run/netns/${HOST}`, RUNTS, "--root", ROOT, "create", "-b", b.dir, "-p", "8083:80", id], { timeoutMs: 60_000 });
    await waitFor("the prestart hook", () => existsSync(marker));
    const during = snapshot();
    expect(during.nft).toContain("tcp . 8083");
    create.signal("SIGKILL");
    await create.result;
    // The hook (a child of the killed runts) is runts's, not the container's: end it.
    spawnSync("pkill", ["-KILL", "-f", `touch ${marker}`]);
    ok(runts(["delete", "-f", id]));
    expect(snapshot()).toEqual(before);
  }, 60_000);
});

describe("errors", () => {
  test("a second container asking for a taken host port gets a clear error", () => {
    const first = runDetached(TCP_ECHO, ["-p", "8084:80"]);
    const before = snapshot();
    const id = newId();
    const b = bundle(TCP_ECHO, (c) => (c.annotations = { "run.runts.ports": "8084:80" }));
    const r = runts(["create", "-b", b.dir, id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(`runts: annotation run.runts.ports: host port 8084/tcp is already published by container ${first} (8084/tcp)`);
    expect(snapshot()).toEqual(before);
  });

  const cases: [string, string[], Record<string, string>, string][] = [
    ["malformed port spec (flag)", ["-p", "8080"], {}, "flag --publish: malformed port mapping \"8080\""],
    ["malformed port spec (annotation)", [], { "run.runts.ports": "a:b" }, "annotation run.runts.ports: host port \"a\" is not a port number"],
    ["port 0", ["-p", "0:80"], {}, "flag --publish: host port 0 is out of range (1-65535)"],
    ["port > 65535", [], { "run.runts.ports": "8080:65536" }, "annotation run.runts.ports: container port 65536 is out of range (1-65535)"],
    ["unknown protocol", ["-p", "8080:80/sctp"], {}, "flag --publish: unknown protocol \"sctp\""],
    ["bad bridge name", ["--network", "bad/name"], {}, "flag --network: bad bridge name \"bad/name\""],
    ["bad bridge name (annotation)", [], { "run.runts.network": "waytoolongbridgename" }, "annotation run.runts.network: bad bridge name"],
    ["fixed IP outside the subnet", ["--ip", "192.168.77.5"], {}, "flag --ip: 192.168.77.5 is not a container address of bridge runts0's subnet"],
    ["not an IP", [], { "run.runts.ip": "10.88.0.300" }, "annotation run.runts.ip: \"10.88.0.300\" is not an IPv4 address"],
  ];
  for (const [name, flags, annotations, want] of cases) {
    test(`bad input: ${name}`, () => {
      const before = snapshot();
      const id = newId();
      const b = bundle(["/bin/true"], (c) => (c.annotations = annotations));
      const r = runts(["create", "-b", b.dir, ...flags, id]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(want);
      expect(existsSync(`${ROOT}/${id}`)).toBe(false);
      expect(snapshot()).toEqual(before);
    });
  }

  test("bad input: a fixed IP that is taken", () => {
    const first = runDetached(TCP_ECHO, ["--network", "runts0"]);
    const ip = ipOf(first);
    const before = snapshot();
    const id = newId();
    const b = bundle(["/bin/true"]);
    const r = runts(["create", "-b", b.dir, "--ip", ip, id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`flag --ip: ${ip} is taken by container ${first}`);
    expect(snapshot()).toEqual(before);
  });

  test("networking for a config that joins a network namespace by path, or has none, is an error", () => {
    for (const edit of [
      (c: any) => (c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === "network" ? { type: "network", path: `/run/netns/${OUTSIDE}` } : n))),
      (c: any) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== "network")),
    ]) {
      const before = snapshot();
      const id = newId();
      const b = bundle(["/bin/true"], edit);
      const r = runts(["create", "-b", b.dir, "-p", "8085:80", id]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/flag --publish: the config (joins the network namespace|has no network namespace of its own)/);
      expect(snapshot()).toEqual(before);
    }
  });

  test("without any network request runts configures nothing", () => {
    const before = snapshot();
    const id = newId();
    const b = bundle(["/bin/sh", "-c", "ip -o link | wc -l"]);
    const r = runts(["run", "-b", b.dir, id]);
    expect(r.stdout.trim()).toBe("1");
    expect(snapshot()).toEqual(before);
  });
});

// IPv4 addresses as unsigned 32-bit numbers, and subnets (pure).

/** 192.0.2.1 -> its number; undefined for anything that is not a dotted quad. */
export function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export interface Subnet {
  /** The network address. */
  base: number;
  prefix: number;
}

const mask = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** "10.88.0.0/16" -> Subnet; undefined unless it is a network address with a prefix of 8..30. */
export function parseSubnet(s: string): Subnet | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  if (!m) return undefined;
  const base = parseIpv4(m[1]!);
  const prefix = Number(m[2]);
  if (base === undefined || prefix < 8 || prefix > 30 || (base & ~mask(prefix)) !== 0) return undefined;
  return { base, prefix };
}

export const formatSubnet = (s: Subnet): string => `${formatIpv4(s.base)}/${s.prefix}`;

export const broadcast = (s: Subnet): number => (s.base | ~mask(s.prefix)) >>> 0;

/** The bridge's address: the first host address. */
export const gateway = (s: Subnet): number => s.base + 1;

export const contains = (s: Subnet, ip: number): boolean => ((ip & mask(s.prefix)) >>> 0) === s.base;

export function overlaps(a: Subnet, b: Subnet): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & mask(p)) >>> 0) === ((b.base & mask(p)) >>> 0);
}

/**
 * The IPv4 destinations of /proc/net/route (the main table of runts's network namespace),
 * the default route left out: it overlaps everything.
 */
export function routesOf(procNetRoute: string): Subnet[] {
  const out: Subnet[] = [];
  for (const line of procNetRoute.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    // Destination and Mask are little-endian hex words.
    const dest = Number.parseInt(f[1]!, 16);
    const m = Number.parseInt(f[7]!, 16);
    const prefix = popcount(m);
    if (prefix === 0) continue;
    out.push({ base: swap(dest), prefix });
  }
  return out;
}

const swap = (n: number): number => (((n & 255) << 24) | (((n >>> 8) & 255) << 16) | (((n >>> 16) & 255) << 8) | (n >>> 24)) >>> 0;

function popcount(n: number): number {
  let c = 0;
  for (let v = n >>> 0; v; v >>>= 1) c += v & 1;
  return c;
}

/**
 * The default subnets, tried in order: 10.88.0.0/16 ... 10.99.0.0/16, then 172.30.0.0/16 and
 * 172.31.0.0/16. The first that no host route and no other runts bridge overlaps wins.
 */
export const DEFAULT_SUBNETS: Subnet[] = [
  ...Array.from({ length: 12 }, (_, i) => ({ base: parseIpv4(`10.${88 + i}.0.0`)!, prefix: 16 })),
  { base: parseIpv4("172.30.0.0")!, prefix: 16 },
  { base: parseIpv4("172.31.0.0")!, prefix: 16 },
];

/** The first default subnet that overlaps none of the host's routes nor the subnets runts uses. */
export function freeSubnet(routes: Subnet[], taken: Subnet[]): Subnet | undefined {
  return DEFAULT_SUBNETS.find((s) => !routes.some((r) => overlaps(r, s)) && !taken.some((t) => overlaps(t, s)));
}

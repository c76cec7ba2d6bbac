/**
 * Which network addresses Outlink refuses to connect to (issue 11): link-local and cloud
 * metadata addresses (`169.254.169.254`, `fd00:ec2::254`), "this host" (`0.0.0.0/8`),
 * multicast and broadcast, unless the administrator re-allows a range with
 * `OUTLINK_ALLOW_ADDRESSES`. Loopback and private ranges stay allowed: on-premises mail
 * servers and the test peers live there.
 *
 * The decision is made on an address, never on a name: resolved addresses at connect time
 * (`src/net/`), and host literals in any spelling a resolver accepts (`2852039166`,
 * `0xa9fea9fe`, `0251.0376.0251.0376`, `::ffff:a9fe:a9fe`) when a setting is saved.
 */
import { isIP } from 'node:net';
import { OutlinkError } from './errors.js';

/** The refusing ranges, as CIDRs (IPv4 ranges also catch their IPv4-mapped IPv6 forms). */
export const REFUSED_RANGES: readonly string[] = [
  '0.0.0.0/8', // "this host on this network" (RFC 1122 §3.2.1.3); Linux connects it locally
  '169.254.0.0/16', // link-local (RFC 3927): AWS, GCP, Azure and OCI instance metadata
  '100.100.100.200/32', // Alibaba Cloud instance metadata
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and 255.255.255.255 limited broadcast
  '::/128', // unspecified
  'fe80::/10', // link-local
  'fec0::/10', // deprecated site-local (RFC 3879)
  'ff00::/8', // multicast
  'fd00:ec2::254/128', // AWS instance metadata over IPv6
];

/** The configuration variable that re-allows refused ranges. */
export const ALLOW_ADDRESSES_VARIABLE = 'OUTLINK_ALLOW_ADDRESSES';

/** Decides on resolved addresses and host literals. */
export interface AddressPolicy {
  /** The ranges the administrator re-allowed, as given. */
  readonly allowed: readonly string[];
  /** True when Outlink must not connect to `address` (an IPv4 or IPv6 address). */
  refuses(address: string): boolean;
  /**
   * For a host that is an address literal in any spelling and refused: the address in its
   * canonical form (`169.254.169.254`); undefined for names and allowed addresses.
   */
  refusedLiteral(host: string): string | undefined;
}

/**
 * The policy with `allow` (CIDRs or single addresses, validated by the configuration)
 * re-allowed. An entry that does not parse is ignored here; `config/` reports it.
 */
export function createAddressPolicy(allow: readonly string[] = []): AddressPolicy {
  const refused = REFUSED_RANGES.map(parseCidr).filter((c) => c !== undefined);
  const allowed = allow.map(parseCidr).filter((c) => c !== undefined);
  const refuses = (address: string) => {
    const bytes = effectiveBytes(address);
    if (!bytes) return false;
    if (allowed.some((range) => contains(range, bytes))) return false;
    return refused.some((range) => contains(range, bytes));
  };
  return Object.freeze({
    allowed: Object.freeze([...allow]),
    refuses,
    refusedLiteral(host: string) {
      const address = literalAddress(host);
      return address !== undefined && refuses(address) ? address : undefined;
    },
  });
}

/**
 * The address a host literal stands for, canonical (`169.254.169.254`, `fd00:ec2::254`), or
 * undefined for a name. IPv4 is read the way `inet_aton` and the WHATWG URL parser read it:
 * one to four parts, each decimal, `0x` hex or `0`-led octal, the last filling the rest.
 */
export function literalAddress(host: string): string | undefined {
  const bare = host.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare) === 6) return bare.toLowerCase();
  const v4 = looseIpv4(bare.replace(/\.$/, ''));
  return v4 ? v4.join('.') : undefined;
}

/** True when `value` is a CIDR (`169.254.10.0/24`) or a single address this module reads. */
export function isCidr(value: string): boolean {
  return parseCidr(value) !== undefined;
}

interface Cidr {
  readonly bytes: readonly number[];
  readonly prefix: number;
}

function parseCidr(value: string): Cidr | undefined {
  const [address = '', prefixText, ...rest] = value.trim().split('/');
  if (rest.length > 0) return undefined;
  const family = isIP(address);
  if (family === 0) return undefined;
  const bytes = family === 4 ? address.split('.').map(Number) : ipv6Bytes(address);
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  if (prefixText === undefined) return { bytes, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
  return { bytes, prefix: Number(prefixText) };
}

function contains(range: Cidr, bytes: readonly number[]): boolean {
  if (range.bytes.length !== bytes.length) return false;
  for (let bit = 0; bit < range.prefix; bit++) {
    const i = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((range.bytes[i] ?? 0) & mask) !== ((bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/**
 * The bytes an address is judged by: IPv4 as 4 bytes; IPv6 as 16, except the forms that reach
 * an IPv4 address (IPv4-mapped `::ffff:0:0/96`, IPv4-compatible `::/96`, NAT64 `64:ff9b::/96`),
 * which are judged as that IPv4 address.
 */
function effectiveBytes(address: string): number[] | undefined {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return bare.split('.').map(Number);
  if (family !== 6) return undefined;
  const bytes = ipv6Bytes(bare);
  if (!bytes) return undefined;
  const head = bytes.slice(0, 12);
  const zeros = (from: number, to: number) => head.slice(from, to).every((b) => b === 0);
  const mapped = zeros(0, 10) && head[10] === 0xff && head[11] === 0xff;
  const compatible = zeros(0, 12) && !bytes.slice(12, 15).every((b) => b === 0);
  const nat64 = head[0] === 0 && head[1] === 0x64 && head[2] === 0xff && head[3] === 0x9b;
  const nat64Rest = zeros(4, 12);
  if (mapped || compatible || (nat64 && nat64Rest)) return bytes.slice(12);
  return bytes;
}

/** The 16 bytes of an IPv6 address (with an optional trailing dotted quad). */
function ipv6Bytes(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const tail: number[] = [];
  const quad = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (quad?.[1]) {
    tail.push(...quad[1].split('.').map(Number));
    const hex = (n: number) => (n >>> 0).toString(16);
    text = `${text.slice(0, quad.index)}:${hex((tail[0]! << 8) | tail[1]!)}:${hex((tail[2]! << 8) | tail[3]!)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(halves[0] ?? '');
  const right = halves.length === 2 ? groups(halves[1] ?? '') : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return undefined;
  const all = [...left, ...Array<string>(missing).fill('0'), ...right];
  if (all.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return all.flatMap((g) => {
    const n = Number.parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

/** `inet_aton`'s IPv4 forms: `2852039166`, `0xa9fea9fe`, `169.254.43518`, `0251.0376.0251.0376`. */
function looseIpv4(host: string): number[] | undefined {
  const parts = host.split('.');
  if (parts.length > 4 || parts.some((p) => p === '')) return undefined;
  const values = parts.map(looseNumber);
  if (values.some((v) => v === undefined)) return undefined;
  const nums = values as number[];
  const last = nums.pop() as number;
  if (nums.some((n) => n > 255)) return undefined;
  const lastBytes = 4 - nums.length;
  if (last >= 256 ** lastBytes) return undefined;
  const rest: number[] = [];
  for (let i = lastBytes - 1; i >= 0; i--) rest.push(Math.floor(last / 256 ** i) % 256);
  return [...nums, ...rest];
}

function looseNumber(part: string): number | undefined {
  if (/^0x[0-9a-f]*$/i.test(part))
    return part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
  if (/^0[0-7]+$/.test(part)) return Number.parseInt(part.slice(1), 8);
  if (/^(0|[1-9]\d*)$/.test(part)) return Number(part);
  return undefined;
}

/**
 * Throws `address_refused` (422) when `host` — a mail server host or a URL's host — is a
 * refused address literal in any spelling; names are judged when connecting.
 */
export function assertHostAllowed(policy: AddressPolicy, field: string, host: string): void {
  const address = policy.refusedLiteral(host);
  if (address === undefined) return;
  throw new OutlinkError('address_refused', { host, address }, { details: { field } });
}

/** `assertHostAllowed` for a URL (`https://2852039166/` is read as the URL parser reads it). */
export function assertUrlAllowed(policy: AddressPolicy, field: string, url: string): void {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return; // not a URL: the field's own check says so
  }
  assertHostAllowed(policy, field, host);
}

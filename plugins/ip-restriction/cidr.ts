/**
 * Address ranges compiled once into a matcher. Every address is seen in IPv6 form, IPv4 as its
 * IPv4-mapped address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2), so `10.0.0.0/8` also matches a client
 * reported as `::ffff:10.1.2.3` and `::ffff:10.0.0.0/104` matches `10.1.2.3`. IPv4 ranges (most
 * lists) cost one `Set` lookup per distinct prefix length; other IPv6 ranges are compared word by word.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  /** The network address as four 32-bit words (IPv6 order). */
  readonly words: readonly [number, number, number, number];
  /** Prefix length in the 128-bit space (an IPv4 `/n` is `96 + n`). */
  readonly prefix: number;
}

const MAPPED_PREFIX_WORD = 0x0000ffff;

/** Parse `address` or `address/prefix`; returns the range or a sentence saying what is wrong. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? null : text.slice(slash + 1);
  const v4 = isIPv4(address);
  if (!v4 && !(isIPv6(address) && !address.includes('%'))) return `"${address}" is not an IPv4 or IPv6 address`;
  const max = v4 ? 32 : 128;
  if (prefixText !== null && !/^\d{1,3}$/.test(prefixText)) return `"/${prefixText}" is not a prefix length`;
  const length = prefixText === null ? max : Number(prefixText);
  if (length > max) return `the prefix length of an ${v4 ? 'IPv4' : 'IPv6'} range is at most ${max}`;
  const words = addressWords(address)!;
  const prefix = v4 ? 96 + length : length;
  const masked = maskWords(words, prefix);
  if (masked.some((w, i) => w !== words[i]))
    return `host bits are set: did you mean ${formatNetwork(masked, v4)}/${length}?`;
  return { words: masked, prefix };
}

/** The four words of a valid address; null when it is not one (never throws: it runs per request). */
export function addressWords(address: string): [number, number, number, number] | null {
  const v4 = ipv4Value(address);
  if (v4 !== null) return [0, 0, MAPPED_PREFIX_WORD, v4];
  return ipv6Words(address);
}

function ipv4Value(text: string): number | null {
  let value = 0;
  let octet = -1;
  let dots = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      // '.'
      if (octet < 0 || ++dots > 3) return null;
      value = value * 256 + octet;
      octet = -1;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3 || (digits > 1 && octet === 0)) return null; // no leading zeros (octal ambiguity)
      octet = (octet < 0 ? 0 : octet * 10) + (c - 48);
      if (octet > 255) return null;
    } else return null;
  }
  if (dots !== 3 || octet < 0) return null;
  return (value * 256 + octet) >>> 0;
}

function ipv6Words(text: string): [number, number, number, number] | null {
  const zone = text.indexOf('%');
  const address = zone === -1 ? text : text.slice(0, zone);
  const groups: number[] = [];
  let gap = -1;
  let tail = address;
  // An embedded IPv4 address ends the text (`::ffff:10.0.0.1`).
  const lastColon = address.lastIndexOf(':');
  let embedded: number | null = null;
  if (lastColon !== -1 && address.indexOf('.', lastColon) !== -1) {
    embedded = ipv4Value(address.slice(lastColon + 1));
    if (embedded === null) return null;
    tail = address.slice(0, lastColon + 1);
    if (!tail.endsWith('::')) tail = tail.slice(0, -1);
  }
  const halves = tail.split('::');
  if (halves.length > 2) return null;
  for (let h = 0; h < halves.length; h++) {
    if (h === 1) gap = groups.length;
    if (halves[h] === '') continue;
    for (const group of halves[h]!.split(':')) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(group)) return null;
      groups.push(parseInt(group, 16));
    }
  }
  if (embedded !== null) groups.push(embedded >>> 16, embedded & 0xffff);
  if (gap === -1 ? groups.length !== 8 : groups.length > 7) return null;
  const full =
    gap === -1
      ? groups
      : [...groups.slice(0, gap), ...new Array<number>(8 - groups.length).fill(0), ...groups.slice(gap)];
  return [
    ((full[0]! << 16) | full[1]!) >>> 0,
    ((full[2]! << 16) | full[3]!) >>> 0,
    ((full[4]! << 16) | full[5]!) >>> 0,
    ((full[6]! << 16) | full[7]!) >>> 0,
  ];
}

function wordMask(prefix: number, word: number): number {
  const bits = Math.max(0, Math.min(32, prefix - word * 32));
  return bits === 0 ? 0 : bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
}

function maskWords(words: readonly number[], prefix: number): [number, number, number, number] {
  return [0, 1, 2, 3].map((i) => (words[i]! & wordMask(prefix, i)) >>> 0) as [number, number, number, number];
}

function formatNetwork(words: readonly number[], v4: boolean): string {
  if (v4) return [24, 16, 8, 0].map((shift) => (words[3]! >>> shift) & 0xff).join('.');
  const groups = words.flatMap((w) => [w >>> 16, w & 0xffff]).map((g) => g.toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Whether an address (as four words) falls in one of the ranges. */
export type AddressMatcher = (words: readonly [number, number, number, number]) => boolean;

/** Compile ranges (already parsed) into a matcher: nothing is parsed or allocated per call. */
export function compileMatcher(ranges: readonly Cidr[]): AddressMatcher {
  // IPv4 ranges: per prefix length, the set of masked addresses.
  const v4 = new Map<number, Set<number>>();
  const v6: Array<{ words: readonly number[]; masks: readonly number[] }> = [];
  for (const range of ranges) {
    const [w0, w1, w2, w3] = range.words;
    if (range.prefix >= 96 && w0 === 0 && w1 === 0 && w2 === MAPPED_PREFIX_WORD) {
      const length = range.prefix - 96;
      let set = v4.get(length);
      if (!set) v4.set(length, (set = new Set()));
      set.add(w3);
    } else {
      v6.push({ words: range.words, masks: [0, 1, 2, 3].map((i) => wordMask(range.prefix, i)) });
    }
  }
  const v4Lengths = [...v4.entries()].map(([length, set]) => ({ mask: wordMask(96 + length, 3), set }));
  return function matchAddress(words) {
    if (v4Lengths.length > 0 && words[0] === 0 && words[1] === 0 && words[2] === MAPPED_PREFIX_WORD) {
      for (let i = 0; i < v4Lengths.length; i++) {
        const { mask, set } = v4Lengths[i]!;
        if (set.has((words[3] & mask) >>> 0)) return true;
      }
    }
    for (let i = 0; i < v6.length; i++) {
      const { words: net, masks } = v6[i]!;
      if (
        (words[0] & masks[0]!) >>> 0 === net[0] &&
        (words[1] & masks[1]!) >>> 0 === net[1] &&
        (words[2] & masks[2]!) >>> 0 === net[2] &&
        (words[3] & masks[3]!) >>> 0 === net[3]
      )
        return true;
    }
    return false;
  };
}

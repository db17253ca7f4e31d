import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/**
 * True for a name DNS can carry: labels of 1–63 bytes, at most 253 in all, no spaces.
 * Underscores are allowed because SRV and TXT names use them (`_sip._tcp.shop.example`).
 */
export function isQueryName(text: string): boolean {
  if (text === '.') return true;
  const name = toAscii(text.replace(/\.$/, ''));
  if (name === undefined || name.length === 0 || name.length > 253) return false;
  return name
    .split('.')
    .every((label) => label.length >= 1 && label.length <= 63 && /^[\x21-\x7e]+$/.test(label));
}

/**
 * The name to put in the question: an internationalised name becomes its xn-- form, and
 * for PTR an IP address becomes its reverse name, since that is what operators have at hand.
 */
export function questionName(query: string, recordType: string): string {
  if (recordType === 'PTR' && isIP(query)) return reverseName(query);
  if (query === '.') return '.';
  return toAscii(query.replace(/\.$/, '')) ?? query;
}

/** `10.0.0.1` → `1.0.0.10.in-addr.arpa`; IPv6 → nibbles under `ip6.arpa`. */
export function reverseName(ip: string): string {
  if (isIP(ip) === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const groups = expandIpv6(ip);
  const nibbles = groups.map((group) => group.padStart(4, '0')).join('');
  return `${[...nibbles].reverse().join('.')}.ip6.arpa`;
}

function expandIpv6(ip: string): string[] {
  const [head, tail] = ip.toLowerCase().split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail === undefined ? [] : tail ? tail.split(':') : [];
  const last = tailGroups.at(-1) ?? headGroups.at(-1);
  // An embedded IPv4 tail (::ffff:10.0.0.1) is two groups.
  const embedded = last?.includes('.') ? ipv4Groups(last) : undefined;
  if (embedded) (tailGroups.length > 0 ? tailGroups : headGroups).splice(-1, 1, ...embedded);
  const missing = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  return [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
}

function ipv4Groups(ip: string): string[] {
  const [a, b, c, d] = ip.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}

function toAscii(name: string): string | undefined {
  // Plain ASCII names pass untouched: domainToASCII rejects the underscores SRV names need.
  if (!/[^\p{ASCII}]/u.test(name)) return name;
  const ascii = domainToASCII(name);
  return ascii === '' ? undefined : ascii;
}

import type { Answer } from 'dns-packet';

/** `mail.shop.example` → `mail.shop.example.`: names are shown fully qualified, as in a zone file. */
function fqdn(name: string): string {
  return name === '.' || name.endsWith('.') ? name : `${name}.`;
}

function text(data: unknown): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return data.map(text).join('');
  return String(data);
}

/**
 * The text form of one record's data, the form expectations are written in:
 * A `1.2.3.4`, MX `10 mail.example.`, TXT its strings joined, SRV `prio weight port target`,
 * SOA `mname rname serial refresh retry expire minimum`. Other types (a server may add
 * them) fall back to hex or JSON so that details can still show them.
 */
export function recordText(answer: Answer): string {
  switch (answer.type) {
    case 'A':
    case 'AAAA':
      return answer.data;
    case 'CNAME':
    case 'NS':
    case 'PTR':
    case 'DNAME':
      return fqdn(answer.data);
    case 'MX':
      return `${answer.data.preference ?? 0} ${fqdn(answer.data.exchange)}`;
    case 'TXT':
      return text(answer.data);
    case 'SRV': {
      const { priority = 0, weight = 0, port, target } = answer.data;
      return `${priority} ${weight} ${port} ${fqdn(target)}`;
    }
    case 'SOA': {
      const { mname, rname, serial = 0, refresh = 0, retry = 0, expire = 0, minimum = 0 } = answer.data;
      return `${fqdn(mname)} ${fqdn(rname)} ${serial} ${refresh} ${retry} ${expire} ${minimum}`;
    }
    case 'OPT':
      return `udp payload ${answer.udpPayloadSize}`;
    default: {
      const data = (answer as { data?: unknown }).data;
      return Buffer.isBuffer(data) ? data.toString('hex') : JSON.stringify(data);
    }
  }
}

/** One answer-section line as a zone file shows it, for details: `www.example. 300 CNAME shop.example.` */
export function recordLine(answer: Answer): string {
  const ttl = 'ttl' in answer ? answer.ttl : undefined;
  return `${fqdn(answer.name)} ${ttl ?? 0} ${answer.type} ${recordText(answer)}`;
}

/**
 * The form two answers are compared in, so that an operator's `mail.example` matches the
 * server's `mail.example.` and `2001:0db8::1` matches `2001:db8::1`: names are case-insensitive
 * and the final dot optional. TXT is compared exactly, since its case and spaces are data.
 */
export function canonicalAnswer(recordType: string, value: string): string {
  if (recordType === 'TXT') return value;
  const collapsed = value.trim().replace(/\s+/g, ' ').toLowerCase();
  if (recordType === 'AAAA') return canonicalIpv6(collapsed);
  return collapsed
    .split(' ')
    .map((token) => (token.length > 1 && token.endsWith('.') ? token.slice(0, -1) : token))
    .join(' ');
}

function canonicalIpv6(address: string): string {
  try {
    // The WHATWG URL parser prints IPv6 hosts in their RFC 5952 compressed form.
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address;
  }
}

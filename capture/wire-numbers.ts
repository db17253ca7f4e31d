/** Protocol numbers the capture code reads packets by, named once for the decoder and the cutter. */

/** Link types beyond the decoder's three (link-types.ts) that the headers-only cut still reads. */
export const LINKTYPE_NULL = 0;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_ARP = 0x0806;
/** 802.1Q, 802.1ad and the old QinQ tag: each adds 4 bytes before the real EtherType. */
export const ETHERTYPE_VLAN: readonly number[] = [0x8100, 0x88a8, 0x9100];

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;
/** IPv6 extension headers stepped over to reach TCP/UDP: hop-by-hop, routing, destination options. */
export const IPV6_EXTENSIONS: ReadonlySet<number> = new Set([0, 43, 60]);
export const IPV6_FRAGMENT = 44;

export const DNS_PORT = 53;

/** TLS record content types. */
export const TLS_CHANGE_CIPHER_SPEC = 20;
export const TLS_ALERT = 21;
export const TLS_HANDSHAKE = 22;

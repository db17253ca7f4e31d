/** pcap LINKTYPE_ values (tcpdump.org/linktypes.html) that the decoder understands. */
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;

export const SUPPORTED_LINK_TYPES: ReadonlySet<number> = new Set([
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
]);

/** Names of common link types, so a refusal says what the file is rather than only a number. */
const LINK_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'NULL',
  1: 'EN10MB',
  6: 'IEEE802_5',
  9: 'PPP',
  50: 'PPP_HDLC',
  101: 'RAW',
  104: 'C_HDLC',
  105: 'IEEE802_11',
  108: 'LOOP',
  113: 'LINUX_SLL',
  119: 'PRISM_HEADER',
  127: 'IEEE802_11_RADIOTAP',
  143: 'DOCSIS',
  189: 'USB_LINUX',
  192: 'PPI',
  195: 'IEEE802_15_4_WITHFCS',
  201: 'BLUETOOTH_HCI_H4_WITH_PHDR',
  220: 'USB_LINUX_MMAPPED',
  228: 'IPV4',
  229: 'IPV6',
  253: 'NETLINK',
  276: 'LINUX_SLL2',
};

/** `228` → `IPV4`; unknown numbers → `unknown`. */
export function linkTypeName(linkType: number): string {
  return LINK_TYPE_NAMES[linkType] ?? 'unknown';
}

/** Why a pcap file could not be read; stable so callers can branch without parsing the message. */
export type PcapFormatErrorCode =
  | 'PCAP_TRUNCATED'
  | 'PCAP_BAD_MAGIC'
  | 'PCAP_UNSUPPORTED_VERSION'
  | 'PCAP_UNSUPPORTED_LINK_TYPE'
  | 'PCAP_CORRUPT_RECORD'
  | 'PCAP_LINK_TYPE_MISMATCH'
  | 'PCAP_READ_FAILED';

/**
 * A pcap file that is truncated, corrupt or of a kind we do not read. The message names the
 * file, what is wrong and the byte offset where it was found, so an operator can hand the
 * file to `editcap`/`tshark` or discard it knowingly.
 */
export class PcapFormatError extends Error {
  constructor(
    readonly code: PcapFormatErrorCode,
    readonly file: string,
    readonly offset: number,
    detail: string,
  ) {
    super(`${file}: ${detail} (at byte ${offset})`);
    this.name = 'PcapFormatError';
  }
}

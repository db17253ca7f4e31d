import { TLS_ALERT, TLS_HANDSHAKE } from './wire-numbers.ts';

/** What the start of a TCP payload says about TLS, when it is readable in clear. */
export interface TlsInfo {
  /** Server name from a ClientHello's server_name extension. */
  clientHello?: { serverName?: string };
  serverHello?: boolean;
  alerts: TlsAlert[];
}

export interface TlsAlert {
  level: 'warning' | 'fatal' | number;
  description: number;
  /** `handshake_failure`, `unknown_ca`, …; `unknown` for numbers not in the table. */
  name: string;
}

const HANDSHAKE_CLIENT_HELLO = 1;
const HANDSHAKE_SERVER_HELLO = 2;
const EXTENSION_SERVER_NAME = 0;

/** RFC 8446 §6 and RFC 5246 §7.2 alert descriptions. */
const ALERT_NAMES: Readonly<Record<number, string>> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  22: 'record_overflow',
  40: 'handshake_failure',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  109: 'missing_extension',
  110: 'unsupported_extension',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

export function tlsAlertName(description: number): string {
  return ALERT_NAMES[description] ?? 'unknown';
}

/**
 * Reads the TLS record headers at the start of a TCP segment: a ClientHello's SNI, a
 * ServerHello, and clear-text alerts. Only the record/handshake headers are parsed; anything
 * that does not look like TLS returns undefined. Encrypted alerts (TLS 1.3 after the
 * handshake) are invisible by design.
 */
export function parseTlsRecords(payload: Buffer): TlsInfo | undefined {
  const info: TlsInfo = { alerts: [] };
  let offset = 0;
  let recognised = false;
  while (offset + 5 <= payload.length) {
    const type = payload[offset];
    const major = payload[offset + 1];
    const length = payload.readUInt16BE(offset + 3);
    if ((type !== TLS_ALERT && type !== TLS_HANDSHAKE && type !== 20 && type !== 23) || major !== 3) {
      break;
    }
    recognised = true;
    const body = payload.subarray(offset + 5, Math.min(payload.length, offset + 5 + length));
    if (type === TLS_ALERT && length === 2 && body.length === 2) {
      const level = body[0];
      info.alerts.push({
        level: level === 1 ? 'warning' : level === 2 ? 'fatal' : level,
        description: body[1],
        name: tlsAlertName(body[1]),
      });
    } else if (type === TLS_HANDSHAKE && body.length >= 4) {
      if (body[0] === HANDSHAKE_CLIENT_HELLO) info.clientHello = { serverName: clientHelloServerName(body) };
      else if (body[0] === HANDSHAKE_SERVER_HELLO) info.serverHello = true;
    }
    offset += 5 + length;
  }
  return recognised ? info : undefined;
}

/** The server_name from a ClientHello handshake message (type, length, body); undefined when absent or cut. */
function clientHelloServerName(handshake: Buffer): string | undefined {
  let offset = 4 + 2 + 32; // handshake header, client_version, random
  const need = (bytes: number) => offset + bytes <= handshake.length;
  if (!need(1)) return undefined;
  offset += 1 + handshake[offset]; // session_id
  if (!need(2)) return undefined;
  offset += 2 + handshake.readUInt16BE(offset); // cipher_suites
  if (!need(1)) return undefined;
  offset += 1 + handshake[offset]; // compression_methods
  if (!need(2)) return undefined;
  const end = Math.min(handshake.length, offset + 2 + handshake.readUInt16BE(offset));
  offset += 2;
  while (offset + 4 <= end) {
    const type = handshake.readUInt16BE(offset);
    const length = handshake.readUInt16BE(offset + 2);
    const data = handshake.subarray(offset + 4, Math.min(end, offset + 4 + length));
    if (type === EXTENSION_SERVER_NAME && data.length >= 5) {
      // server_name_list length (2), name_type (1, 0 = host_name), name length (2), name
      const nameLength = data.readUInt16BE(3);
      if (data[2] === 0 && 5 + nameLength <= data.length) return data.toString('ascii', 5, 5 + nameLength);
      return undefined;
    }
    offset += 4 + length;
  }
  return undefined;
}

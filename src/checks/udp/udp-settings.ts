import { z } from 'zod';
import { regexSource, strictObject } from '../../config/zod-helpers.ts';
import { endpointShape, portNumber } from '../remote-endpoint.ts';

/** Largest payload one datagram carries over IPv4 (65,535 − 8 − 20). */
const MAX_DATAGRAM_BYTES = 65_507;

/** The `udp:` block: where to send one datagram, what to send, and what the reply must say. */
export const udpSettingsSchema = strictObject(
  {
    ...endpointShape(portNumber().describe('UDP port. Required.'), 'send to'),
    send: z
      .string()
      .max(MAX_DATAGRAM_BYTES)
      .optional()
      .describe(
        'The datagram as text (UTF-8); may embed secret references, resolved at run time and never stored. This or `sendHex`.',
      ),
    sendHex: z
      .string()
      .regex(/^(?:[0-9a-fA-F]{2})+$/, { error: 'expected an even number of hex digits, such as "0a1b"' })
      .max(MAX_DATAGRAM_BYTES * 2)
      .optional()
      .describe('The datagram as hex bytes (`"0001ff"`), for binary protocols. This or `send`.'),
    expect: regexSource()
      .optional()
      .describe(
        'Regular expression the reply must match (the reply read as Latin-1, one character per byte). Default: any reply passes.',
      ),
  },
  { what: 'the udp settings, such as { host: "10.0.0.5", port: 1812, send: "ping" }' },
)
  .superRefine((settings, ctx) => {
    if ((settings.send === undefined) === (settings.sendHex === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['send'],
        message: 'set exactly one of send (text) and sendHex (bytes): the datagram to send',
      });
  })
  .describe('One datagram sent, one reply awaited and matched.');

export type UdpSettings = z.output<typeof udpSettingsSchema>;

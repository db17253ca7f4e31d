import type { FastifyReply, FastifyRequest } from 'fastify';
import { ArtifactRangeError, type ArtifactStore } from '../../artifacts/artifact-store.ts';
import { apiError } from '../api-error.ts';
import { parseRangeHeader } from './range-header.ts';

/** The registered type of pcap files (IANA), whatever type the writer stored. */
export const PCAP_CONTENT_TYPE = 'application/vnd.tcpdump.pcap';

/**
 * Answers with artifact `key` as a download named `filename`: whole (200) or the one range
 * the `Range` header asks (206, Content-Range), or 416 with `Content-Range: bytes *\/size`
 * for a range past its end. Every answer says `Accept-Ranges: bytes`, so a download manager
 * knows it can resume. Resolves undefined when the store has no such artifact (the caller
 * answers 404 in its own words).
 */
export async function sendArtifact(
  request: FastifyRequest,
  reply: FastifyReply,
  store: ArtifactStore,
  key: string,
  filename: string,
): Promise<FastifyReply | undefined> {
  // No validators (ETag, Last-Modified) are sent, so an If-Range cannot be found current:
  // §13.1.5 then asks for the whole representation.
  const asked =
    request.headers['if-range'] === undefined ? parseRangeHeader(request.headers.range) : undefined;
  reply.header('accept-ranges', 'bytes');
  let found: Awaited<ReturnType<ArtifactStore['get']>>;
  try {
    found = await store.get(key, asked);
  } catch (error) {
    if (!(error instanceof ArtifactRangeError)) throw error;
    return reply
      .code(416)
      .header('content-range', `bytes */${error.bytes}`)
      .send(
        apiError(
          'RANGE_NOT_SATISFIABLE',
          `the Range ${JSON.stringify(request.headers.range)} holds no byte of "${filename}" (${error.bytes} bytes)`,
        ),
      );
  }
  if (!found) return undefined;
  const { stream, info, range } = found;
  reply
    .header('content-type', filename.endsWith('.pcap') ? PCAP_CONTENT_TYPE : info.contentType)
    .header('content-disposition', `attachment; filename="${filename}"`);
  if (!range) return reply.header('content-length', info.bytes).send(stream);
  return reply
    .code(206)
    .header('content-range', `bytes ${range.start}-${range.end}/${info.bytes}`)
    .header('content-length', range.end - range.start + 1)
    .send(stream);
}

import { pipeline, Transform, type TransformCallback } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { ArtifactKeyError, type ArtifactStore, assertValidKey } from '../../artifacts/artifact-store.ts';
import { UPLOAD_ROLE } from '../../auth/api-role.ts';
import { apiError, quoteInput } from '../api-error.ts';
import { API_V1_ERRORS, errorResponses } from '../schemas/api-error-schema.ts';

/** Where workers write: a run's evidence and the periodic collections. Bundles are the API's own. */
export const UPLOAD_PREFIXES = ['runs/', 'captures/'] as const;

/** `type/subtype` with optional parameters, as a download will answer it. */
const CONTENT_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;[ -~]*)?$/;

export interface ArtifactUploadRoutesOptions {
  artifacts?: ArtifactStore;
  /** Largest body taken, in bytes (`artifacts.maxUploadSize`). */
  maxBytes: number;
}

class BodyTooLargeError extends Error {}

/** Passes bytes through until more than `limit` went by, then fails the stream. */
function byteLimit(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > limit) callback(new BodyTooLargeError(`more than ${limit} bytes`));
      else callback(null, chunk);
    },
  });
}

/**
 * `PUT /api/v1/artifacts/<key>`: a worker on another host delivers one artifact into the
 * API's store, for the `worker` role only. The body is streamed to the store as it arrives
 * (a capture slice can be 50 MB and more), never parsed or held in memory. The same key
 * again overwrites it, so a retry after a lost answer does no harm.
 */
export const artifactUploadRoutes: FastifyPluginAsync<ArtifactUploadRoutesOptions> = async (
  app,
  { artifacts, maxBytes },
) => {
  // This plugin's own scope: its bodies reach the handler unread, whatever their type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  const tooLarge = `the artifact is larger than the ${maxBytes} bytes the API takes (artifacts.maxUploadSize)`;

  app.put<{ Params: { '*': string } }>(
    '/api/v1/artifacts/*',
    {
      config: { role: UPLOAD_ROLE },
      schema: {
        tags: ['artifacts'],
        summary:
          "Deliver one artifact from a worker on another host into the API's store (worker role only); the body is the file, its Content-Type kept",
        params: z.object({
          '*': z
            .string()
            .describe('The artifact key, e.g. runs/<runId>/trace.zip or captures/<collection>/<file>'),
        }),
        response: {
          200: z
            .strictObject({ key: z.string(), bytes: z.number(), contentType: z.string() })
            .describe('Stored (the same key again overwrites)'),
          ...errorResponses({
            ...API_V1_ERRORS,
            400: 'A key that is not valid or outside runs/ and captures/ (ARTIFACT_KEY_INVALID), a bad Content-Type, or a body cut short (UPLOAD_INCOMPLETE)',
            403: 'The token is not a worker token',
            413: 'Larger than artifacts.maxUploadSize (BODY_TOO_LARGE)',
            503: 'Redis is unreachable, or this process has no artifact store (NO_ARTIFACT_STORE)',
          }),
        },
      },
    },
    async (request, reply) => {
      const key = request.params['*'];
      try {
        assertValidKey(key);
      } catch (error) {
        if (!(error instanceof ArtifactKeyError)) throw error;
        return reply
          .code(400)
          .send(
            apiError(
              'ARTIFACT_KEY_INVALID',
              `artifact key ${quoteInput(key)} is not valid: expected relative "/"-separated names of letters, digits, ".", "_" and "-", without ".."`,
            ),
          );
      }
      if (!UPLOAD_PREFIXES.some((prefix) => key.startsWith(prefix)))
        return reply
          .code(400)
          .send(
            apiError(
              'ARTIFACT_KEY_INVALID',
              `artifact key ${quoteInput(key)} is outside what workers write: expected it to start with ${UPLOAD_PREFIXES.join(' or ')}`,
            ),
          );
      const contentType = request.headers['content-type'] ?? 'application/octet-stream';
      if (contentType.length > 200 || !CONTENT_TYPE.test(contentType))
        return reply
          .code(400)
          .send(
            apiError(
              'BAD_REQUEST',
              `Content-Type ${quoteInput(contentType)} is not a media type such as "application/zip"`,
            ),
          );
      // The rest of a refused body is never read: the connection closes after the answer.
      if (Number(request.headers['content-length']) > maxBytes)
        return reply.code(413).header('connection', 'close').send(apiError('BODY_TOO_LARGE', tooLarge));
      if (!artifacts)
        return reply.code(503).send(apiError('NO_ARTIFACT_STORE', 'this API process has no artifact store'));
      const limited = byteLimit(maxBytes);
      // An upload cut off half-way fails `limited`, and so the store's write, which leaves nothing.
      pipeline(request.raw, limited, () => {});
      try {
        const stored = await artifacts.put(key, limited, contentType);
        return reply
          .code(200)
          .send({ key: stored.key, bytes: stored.bytes, contentType: stored.contentType });
      } catch (error) {
        if (error instanceof BodyTooLargeError)
          return reply.code(413).header('connection', 'close').send(apiError('BODY_TOO_LARGE', tooLarge));
        // The worker went away mid-body: nothing was stored, and it sends the whole artifact again.
        if (request.raw.destroyed || (error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE')
          return reply
            .code(400)
            .send(
              apiError('UPLOAD_INCOMPLETE', `the upload of ${quoteInput(key)} ended before its last byte`),
            );
        throw error;
      }
    },
  );
};

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import type { StoredArtifact } from './artifact-store.ts';

/** The API a worker uploads to, and the `worker` token it uploads with. */
export interface UploadTarget {
  /** The API's base URL (a path prefix is kept). */
  url: string;
  token: string;
}

export interface UploadAnswer {
  status: number;
  /** The API's answer, cut to a few kilobytes (a sentence, or `{ key, bytes, contentType }`). */
  body: string;
}

/** Longest an upload may go without a byte moving either way before it counts as lost. */
const IDLE_TIMEOUT_MS = 60_000;
const MAX_ANSWER_CHARS = 4096;

/** `PUT <url>/api/v1/artifacts/<key>`; the key's characters need no escaping (assertValidKey). */
export function uploadUrl(target: UploadTarget, key: string): URL {
  const base = target.url.endsWith('/') ? target.url : `${target.url}/`;
  return new URL(`api/v1/artifacts/${key}`, base);
}

/**
 * Streams `body` (the artifact `info` describes) to the API and resolves with its answer,
 * whatever the status; rejects when no answer came (refused connection, reset, timeout,
 * `signal` aborted). An answer that comes before the body is sent whole (a 413) still counts.
 */
export function uploadArtifact(
  target: UploadTarget,
  info: StoredArtifact,
  body: Readable,
  signal: AbortSignal,
): Promise<UploadAnswer> {
  const url = uploadUrl(target, info.key);
  return new Promise<UploadAnswer>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'PUT',
      signal,
      timeout: IDLE_TIMEOUT_MS,
      headers: {
        authorization: `Bearer ${target.token}`,
        'content-type': info.contentType,
        'content-length': info.bytes,
      },
    });
    request.on('timeout', () =>
      request.destroy(new Error(`no progress for ${IDLE_TIMEOUT_MS / 1000} s uploading to ${url.host}`)),
    );
    request.on('error', (error) => {
      body.destroy();
      reject(error);
    });
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (text.length < MAX_ANSWER_CHARS) text += chunk.slice(0, MAX_ANSWER_CHARS - text.length);
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      response.on('error', reject);
    });
    body.on('error', (error) => request.destroy(error));
    body.pipe(request);
  });
}

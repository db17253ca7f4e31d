import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

export interface Digest {
  bytes: number;
  sha256: string;
}

/**
 * A pass-through that counts and hashes what flows through it and reports both when its
 * input ends, so a file's manifest line is made as it is streamed, not by reading it twice.
 */
export function digestStream(onDone: (digest: Digest) => void): Transform {
  const hash = createHash('sha256');
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      onDone({ bytes, sha256: hash.digest('hex') });
      callback();
    },
  });
}

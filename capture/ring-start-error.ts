/** tcpdump could not start (or could not take the ring): capture is off, monitoring goes on. */
export class RingStartError extends Error {
  readonly code: string = 'CAPTURE_START_FAILED';
}

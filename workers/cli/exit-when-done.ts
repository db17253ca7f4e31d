let requested = false;

/**
 * Called by one-shot commands (validate): the process exits once the command is done,
 * whatever handles user code left open (a journey file's timer or socket).
 */
export function exitWhenDone(): void {
  requested = true;
}

export function exitWhenDoneRequested(): boolean {
  return requested;
}

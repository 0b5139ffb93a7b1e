/**
 * Let one turn of the event loop run. Long synchronous work (SQLite, hashing) calls this
 * between chunks: only then do timers draw the spinner and signal handlers see Ctrl-C.
 * Awaiting a resolved promise is not enough; that runs microtasks only.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

import { Worker } from 'node:worker_threads';

// Long reads that can run beside the main thread's work, on the second core: the source's
// quick_check beside the snapshot and the build, the backup's hash beside the build, the
// result's integrity_check beside the comparison. One worker thread per task.

export type WorkerTask =
  /** The SHA-256 of what an open descriptor holds (progress in bytes). */
  | { kind: 'hash'; from: number }
  /**
   * Read-only PRAGMAs (quick_check, integrity_check, foreign_key_check) in turn on one
   * connection: their rows. With `compare`, the rows are posted as data (`{ pragmas }`), and the
   * worker then takes jobs of the full comparison (posted to it as a `SharedComparison`) off the
   * same queue as the main thread, posting each job's result (`{ job, result }`).
   */
  | { kind: 'pragma'; file: string; pragmas: string[]; compare?: CompareInWorker };

/** How a worker opens its side of the comparison: the baseline to attach, the unit's functions and temp helpers. */
export interface CompareInWorker {
  /** Attached as `baseline`, read-only like the connection. */
  baseline: string;
  /** The unit's SQL functions: a module's URL and the name of its `(db) => void` export (a function cannot be posted to a worker). */
  functions?: { module: string; name: string };
  /** Temp helpers the statements join (the unit's row-count setup). */
  setup: string[];
}

export interface BackgroundTask<T> {
  result: Promise<T>;
  /** Stop the worker (a failed or interrupted run); its result is then never awaited. */
  cancel(): void;
  /** Hand the worker more work (see the task kinds). */
  post(message: unknown): void;
}

/**
 * Start `task` in a worker thread. `onProgress` sees the hash's bytes, `onData` what the
 * worker posts before its result; either may throw (Ctrl-C, a test fault), which stops the
 * worker and rejects the result with that error.
 */
export function inBackground<T>(task: WorkerTask, onProgress?: (done: number, total: number) => void, onData?: (data: unknown) => void): BackgroundTask<T> {
  // The tasks allocate little in JavaScript: small heaps keep peak RSS (issue 13: 150 MiB) in reach.
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: task, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 24 } });
  let settled = false;
  const result = new Promise<T>((resolve, reject) => {
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(error);
    };
    worker.on('message', (message: { result?: T; error?: { code?: string; message: string; path?: string }; progress?: { done: number; total: number }; data?: unknown }) => {
      if (message.progress || 'data' in message) {
        try {
          if (message.progress) onProgress?.(message.progress.done, message.progress.total);
          else onData?.(message.data);
        } catch (error) {
          fail(error);
        }
        return;
      }
      if (message.error) return fail(Object.assign(new Error(message.error.message), message.error));
      settled = true;
      resolve(message.result as T);
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`worker for ${task.kind} exited with code ${code} before it finished`)));
  });
  // A cancelled task's rejection is nobody's business.
  result.catch(() => {});
  return {
    result,
    cancel() {
      settled = true;
      void worker.terminate();
    },
    post(message) {
      if (!settled) worker.postMessage(message);
    },
  };
}

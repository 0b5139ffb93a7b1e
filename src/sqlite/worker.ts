// Runs in a worker thread (see background.ts): the long reads that can go beside the main
// thread's work on the second core. Each task opens its own handles and posts its result.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { WorkerTask } from './background.js';

// Small reads keep each worker's footprint small; a worker has no event loop to feed.
const CHUNK = 1024 * 1024;

function pragmaRows(file: string, pragmas: string[]): unknown[][] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('cache_size = -2000');
    return pragmas.map((pragma) => db.pragma(pragma) as unknown[]);
  } finally {
    db.close();
  }
}

/** SHA-256 of what an open descriptor holds, read from the start. */
function hash(from: number): string {
  const sha256 = crypto.createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK);
  const total = fs.fstatSync(from).size;
  let done = 0;
  let reported = 0;
  for (;;) {
    const read = fs.readSync(from, buffer, 0, CHUNK, done);
    if (read === 0) break;
    sha256.update(buffer.subarray(0, read));
    done += read;
    if (done - reported >= 64 * CHUNK || done === total) {
      parentPort!.postMessage({ progress: { done, total } });
      reported = done;
    }
  }
  return sha256.digest('hex');
}

function run(task: WorkerTask): unknown {
  switch (task.kind) {
    case 'hash':
      return hash(task.from);
    case 'pragma':
      return pragmaRows(task.file, task.pragmas);
  }
}

try {
  parentPort!.postMessage({ result: run(workerData as WorkerTask) });
} catch (error) {
  const e = error as { code?: string; message?: string; path?: string; syscall?: string };
  parentPort!.postMessage({ error: { code: e.code, message: e.message ?? String(error), path: e.path, syscall: e.syscall } });
}

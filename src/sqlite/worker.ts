// Runs in a worker thread (see background.ts): the long reads that can go beside the main
// thread's work on the second core. Each task opens its own handles and posts its result.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { WorkerTask } from './background.js';

const CHUNK = 8 * 1024 * 1024;

function pragmaRows(file: string, pragma: string): unknown[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('cache_size = -2000');
    return db.pragma(pragma) as unknown[];
  } finally {
    db.close();
  }
}

/** Copy `from` into `to` (both already-open descriptors) and hash the bytes on the same read. */
function copyAndHash(from: number, to: number | undefined): string {
  const hash = crypto.createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK);
  const total = fs.fstatSync(from).size;
  let done = 0;
  let reported = 0;
  for (;;) {
    const read = fs.readSync(from, buffer, 0, CHUNK, done);
    if (read === 0) break;
    const chunk = buffer.subarray(0, read);
    hash.update(chunk);
    if (to !== undefined) {
      let offset = 0;
      while (offset < read) offset += fs.writeSync(to, chunk, offset, read - offset, done + offset);
    }
    done += read;
    if (done - reported >= 8 * CHUNK || done === total) {
      parentPort!.postMessage({ progress: { done, total } });
      reported = done;
    }
  }
  return hash.digest('hex');
}

function run(task: WorkerTask): unknown {
  switch (task.kind) {
    case 'copy':
      return copyAndHash(task.from, task.to);
    case 'pragma':
      return pragmaRows(task.file, task.pragma);
  }
}

try {
  parentPort!.postMessage({ result: run(workerData as WorkerTask) });
} catch (error) {
  const e = error as { code?: string; message?: string; path?: string; syscall?: string };
  parentPort!.postMessage({ error: { code: e.code, message: e.message ?? String(error), path: e.path, syscall: e.syscall } });
}

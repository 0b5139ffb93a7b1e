// Runs in a worker thread (see background.ts): the long reads that can go beside the main
// thread's work on the second core. Each task opens its own handles and posts its result.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CompareInWorker, WorkerTask } from './background.js';
import { comparisonRunner, type ComparisonJob, type SharedComparison, type TableStatements } from './compare.js';

// Small reads keep each worker's footprint small; a worker has no event loop to feed.
const CHUNK = 1024 * 1024;

async function pragmaRows(file: string, pragmas: string[], compare?: CompareInWorker): Promise<unknown[][]> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('cache_size = -2000');
    const rows = pragmas.map((pragma) => db.pragma(pragma) as unknown[]);
    if (!compare) return rows;
    parentPort!.postMessage({ data: { pragmas: rows } });
    await compareShare(db, compare);
    return rows;
  } finally {
    db.close();
  }
}

/**
 * This thread's share of the full comparison: jobs off the queue the main thread also takes
 * from, until none is left. The connection is read-only, the backup attached read-only too.
 */
async function compareShare(db: Database.Database, compare: CompareInWorker): Promise<void> {
  const work = await new Promise<SharedComparison | null>((resolve) => parentPort!.once('message', resolve));
  if (!work) return;
  const queue = new Int32Array(work.next);
  // Nothing left to take: skip opening the baseline and building the helpers.
  if (Atomics.load(queue, 0) >= work.jobs.length) return;
  db.prepare('ATTACH DATABASE ? AS baseline').run(compare.baseline);
  db.pragma('baseline.cache_size = -2000');
  if (compare.functions) {
    const module = (await import(compare.functions.module)) as Record<string, (db: Database.Database) => void>;
    module[compare.functions.name]!(db);
  }
  for (const sql of compare.setup) db.exec(sql);
  const run = comparisonRunner(db);
  for (let i = Atomics.add(queue, 0, 1); i < work.jobs.length; i = Atomics.add(queue, 0, 1)) {
    const job = work.jobs[i] as ComparisonJob;
    parentPort!.postMessage({ data: { job: i, result: run(work.statements[job.table] as TableStatements, job.range) } });
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

async function run(task: WorkerTask): Promise<unknown> {
  switch (task.kind) {
    case 'hash':
      return hash(task.from);
    case 'pragma':
      return pragmaRows(task.file, task.pragmas, task.compare);
  }
}

try {
  parentPort!.postMessage({ result: await run(workerData as WorkerTask) });
} catch (error) {
  const e = error as { code?: string; message?: string; path?: string; syscall?: string };
  parentPort!.postMessage({ error: { code: e.code, message: e.message ?? String(error), path: e.path, syscall: e.syscall } });
}

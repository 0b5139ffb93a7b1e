import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BaselineComparison, ComparisonHelper, JobResult, RowCounts } from '../../src/sqlite/compare.js';
import { tempDir } from '../support/tmp.js';

// The full comparison in two threads: a worker thread (built code: it loads dist/sqlite/worker.js)
// takes row ranges off the same queue as the main thread. Whichever thread compares a range,
// every differing row is found, the sample ids come in row order, and the counts add up.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ROWS = 45_000;

interface Built {
  compareWithBaseline: (...args: unknown[]) => Promise<BaselineComparison>;
  inBackground: (task: unknown, onProgress?: unknown, onData?: (data: unknown) => void) => { result: Promise<unknown>; post(m: unknown): void; cancel(): void };
}

async function built(): Promise<Built> {
  const compare = await import(path.join(ROOT, 'dist/sqlite/compare.js'));
  const background = await import(path.join(ROOT, 'dist/sqlite/background.js'));
  return { compareWithBaseline: compare.compareWithBaseline, inBackground: background.inBackground };
}

function files(): { baselineFile: string; mainFile: string } {
  const dir = tempDir();
  const baselineFile = path.join(dir, 'baseline.db');
  const mainFile = path.join(dir, 'main.db');
  const baseline = new Database(baselineFile);
  baseline.exec(`CREATE TABLE doc (id INTEGER PRIMARY KEY, body BLOB, kind TEXT);
    CREATE TABLE small (id INTEGER PRIMARY KEY, v);
    INSERT INTO small VALUES (1, 'a'), (2, 'b');`);
  baseline.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS})
    INSERT INTO doc SELECT i, randomblob(300), CASE WHEN i % 3 = 0 THEN 'x' ELSE 'y' END FROM n`);
  baseline.close();
  fs.copyFileSync(baselineFile, mainFile);
  return { baselineFile, mainFile };
}

const CHANGED = [7, 15_003, 31_000, 44_999];
const COUNTS: RowCounts = { doc: { join: '', aggregates: [`count(*) FILTER (WHERE m.kind = 'x') AS xs`] } };

async function run(threads: 1 | 2): Promise<{ result: BaselineComparison; workerJobs: number }> {
  const { compareWithBaseline, inBackground } = await built();
  const { baselineFile, mainFile } = files();
  const db = new Database(mainFile);
  db.exec(`UPDATE doc SET kind = 'z' WHERE id IN (${CHANGED.join(', ')}); UPDATE small SET v = 'B' WHERE id = 2`);
  db.close();
  const work = new Database(mainFile, { readonly: true });
  work.prepare('ATTACH DATABASE ? AS baseline').run(baselineFile);
  let workerJobs = 0;
  let onJob: (index: number, result: JobResult) => void = () => {};
  const worker = inBackground({ kind: 'pragma', file: mainFile, pragmas: ['integrity_check'], compare: { baseline: baselineFile, setup: [] } }, undefined, (data) => {
    const message = data as { job?: number; result?: JobResult };
    if (message.result) {
      workerJobs++;
      onJob(message.job as number, message.result);
    }
  });
  const helper: ComparisonHelper = (shared, onResult) => {
    onJob = onResult;
    worker.post(shared);
    return worker.result.then(() => undefined);
  };
  try {
    // The main thread dawdles between its ranges, so that the worker certainly takes some.
    const dawdle = () => new Promise<void>((resolve) => setTimeout(resolve, 40));
    const result = await compareWithBaseline(work, 'baseline', new Set(), threads === 2 ? dawdle : undefined, COUNTS, threads === 2 ? helper : undefined);
    if (threads === 1) worker.cancel();
    return { result, workerJobs };
  } finally {
    work.close();
  }
}

describe('compareWithBaseline in two threads', () => {
  it('finds the same differing rows, in row order, and the same counts as one thread', async () => {
    const one = await run(1);
    const two = await run(2);
    expect(two.workerJobs).toBeGreaterThan(0);
    const doc = two.result.tables.find((t) => t.table === 'doc');
    expect(doc).toMatchObject({ before: ROWS, after: ROWS, differing: CHANGED.length, sampleIds: CHANGED, counted: { xs: ROWS / 3 - CHANGED.filter((id) => id % 3 === 0).length } });
    expect(two.result.tables.find((t) => t.table === 'small')).toMatchObject({ differing: 1, sampleIds: [2] });
    expect(two.result).toEqual(one.result);
  });
});

describe('compareWithBaseline when the other thread fails', () => {
  it('fails with its error once this thread has run out of ranges, never as an unhandled rejection', async () => {
    const { compareWithBaseline } = await built();
    const { baselineFile, mainFile } = files();
    const work = new Database(mainFile, { readonly: true });
    work.prepare('ATTACH DATABASE ? AS baseline').run(baselineFile);
    const unhandled: unknown[] = [];
    const note = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', note);
    try {
      // The helper fails at once; this thread still dawdles through its ranges meanwhile.
      const helper: ComparisonHelper = () => Promise.reject(new Error('worker for pragma exited with code 1 before it finished'));
      const dawdle = () => new Promise<void>((resolve) => setTimeout(resolve, 5));
      await expect(compareWithBaseline(work, 'baseline', new Set(), dawdle, {}, helper)).rejects.toThrow('exited with code 1');
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', note);
      work.close();
    }
  });
});

describe('a unit names its SQL functions for worker threads', () => {
  it('health-records v5: prepareIn leads to the very function prepare is', async () => {
    const { healthRecordsV5: unit } = await import(path.join(ROOT, 'dist/plans/health-records-v5/index.js'));
    const module = await import(unit.prepareIn.module);
    expect(module[unit.prepareIn.name]).toBe(unit.prepare);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { createEmptyExclusive, tempPathBeside } from '../../files/create.js';
import { COMPANION_SUFFIXES } from '../../files/move-aside.js';
import { snapshotDatabase } from '../../sqlite/snapshot.js';
import { toToolError } from '../../errors.js';
import type { Step } from '../run.js';

/**
 * A consistent copy of the live source, taken with SQLite's online backup API straight into the
 * private work file (never a file copy, which would miss what sits in the -wal). The work file
 * is both the backup's origin and the file the transform changes: one read of the source.
 */
export const snapshotStep: Step = {
  name: 'snapshot',
  async run(ctx) {
    const work = tempPathBeside(path.join(ctx.workDir, path.basename(ctx.config.targetDb)), 'work');
    createEmptyExclusive(work);
    ctx.workFile = work;
    ctx.cleanups.push(() => removeDatabaseFiles(work));
    const pages = await snapshotDatabase(
      ctx.sourceDb!,
      work,
      (done, total) => ctx.emit({ step: 'snapshot', phase: 'progress', done, total, unit: 'pages' }),
      () => ctx.checkpoint('snapshot-pages'),
    ).catch((error: unknown) => {
      throw toToolError(error, work);
    });
    return { status: 'ok', detail: `${pages.toLocaleString('en-US')} pages` };
  },
};

export function removeDatabaseFiles(file: string): void {
  for (const suffix of COMPANION_SUFFIXES) fs.rmSync(file + suffix, { force: true });
}

import { createEmptyExclusive } from '../../files/create.js';
import { reserveBackup } from './backup.js';
import { snapshotDatabase } from '../../sqlite/snapshot.js';
import { toToolError } from '../../errors.js';
import type { Step } from '../run.js';

/**
 * A consistent copy of the live source, taken with SQLite's online backup API (never a file
 * copy, which would miss what sits in the -wal), straight into the backup's partial file.
 * SQLite fsyncs it when the copy commits. The backup step then makes the work file from it:
 * one read of the source, one durable write.
 */
export const snapshotStep: Step = {
  name: 'snapshot',
  async run(ctx) {
    const { partial, final } = reserveBackup(ctx);
    createEmptyExclusive(partial);
    const pages = await snapshotDatabase(
      ctx.sourceDb!,
      partial,
      (done, total) => ctx.emit({ step: 'snapshot', phase: 'progress', done, total, unit: 'pages' }),
      () => ctx.checkpoint('snapshot-pages'),
    ).catch((error: unknown) => {
      throw toToolError(error, partial);
    });
    ctx.snapshot = { partial, final };
    return { status: 'ok', detail: `${pages.toLocaleString('en-US')} pages` };
  },
};

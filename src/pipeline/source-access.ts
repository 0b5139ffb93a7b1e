import fs from 'node:fs';
import { BusyError, ConfigError, InputError } from '../errors.js';
import { assertSqliteFile, hasHotJournal, quickCheck } from '../sqlite/checks.js';
import { assertNotWriteLocked, openReadonly, type Db } from '../sqlite/open.js';
import type { RunContext } from './context.js';

// Opening the source the way every pipeline command must (migrate's preflight, `dbshift backup`,
// `verify`): shared below the steps.

export const NOTHING_CHANGED = 'Nothing was changed.';

/**
 * Open the source read-only after refusing what must not be opened: not SQLite, a hot journal
 * beside it, another process holding its write lock. (Damage is found by quick_check, in a worker.)
 */
export function openSourceForReading(ctx: RunContext): { db: Db; dataVersion: number } {
  assertSqliteFile(ctx.source);
  // Journals sit beside the real file, not beside a link to it.
  const source = fs.realpathSync(ctx.source);
  if (hasHotJournal(source)) {
    throw new BusyError('hot-journal', `A hot journal (${source}-journal) sits beside the source: a writer crashed mid-transaction.`, {
      hint: 'Open the database once with the app or `sqlite3` so SQLite rolls the journal back, then run again.',
      dataState: NOTHING_CHANGED,
    });
  }
  const db = openReadonly(source, ctx.config.busyTimeoutMs);
  db.pragma('cache_size = -2000');
  ctx.cleanups.push(() => db.close());
  ctx.checkpoint('preflight-opened');
  assertNotWriteLocked(source, ctx.config.busyTimeoutMs, db);
  // From here on, a commit by any other process shows up as a new data_version: publish compares.
  return { db, dataVersion: Number(db.pragma('data_version', { simple: true })) };
}

/** The source's quick_check on the calling thread (`dbshift backup`, which has nothing to overlap it with). */
export function assertSourceIntact(ctx: RunContext, db: Db): void {
  const complaints = quickCheck(db);
  if (complaints.length > 0) throw sourceCorrupt(ctx, complaints, NOTHING_CHANGED);
}

export function sourceCorrupt(ctx: RunContext, complaints: string[], dataState: string): InputError {
  return new InputError('source-corrupt', `${ctx.source} fails PRAGMA quick_check: ${complaints.slice(0, 3).join('; ')}`, {
    hint: "Do not migrate a damaged database: restore it from the app's last good backup first.",
    dataState,
  });
}

export function requireSecretKey(secretKey: string | undefined): asserts secretKey is string {
  if (!secretKey) {
    throw new ConfigError('secret-key-missing', 'SECRET_KEY is not set.', {
      hint: 'Set SECRET_KEY (the production key) in the environment or in .env. It is never accepted on the command line.',
      dataState: NOTHING_CHANGED,
    });
  }
}

/** The source was written while this run relied on it being as it read it: 75, with what moved. */
export function sourceChanged(ctx: RunContext, what: string, dataState: string): BusyError {
  return new BusyError('source-changed', `${ctx.source} changed since it was read (source changed since snapshot: ${what}): something still writes to it.`, {
    hint: 'Stop every process that writes the database (app, workers, cron), then run again.',
    dataState,
  });
}

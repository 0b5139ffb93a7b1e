import path from 'node:path';
import { applyBuild } from '../../plans/apply-build.js';
import { InputError, toToolError } from '../../errors.js';
import { createEmptyExclusive, tempPathBeside } from '../../files/create.js';
import { removeDatabaseFiles } from '../../files/move-aside.js';
import { fsyncInBackground } from '../../files/durable.js';
import { describeBaseline } from '../../sqlite/introspect.js';
import { openWritable } from '../../sqlite/open.js';
import { yieldToEventLoop } from '../../yield.js';
import type { Step } from '../run.js';
import type { RunContext } from '../context.js';
import type { Db } from '../../sqlite/open.js';
import type { Warning } from '../../results.js';
import { appendHistory, ensureStateTables, readVersion, writeVersion } from '../../engine/state.js';
import type { PreflightOut, SnapshotOut, TransformOut } from '../step-data.js';
import { estimatedRows, refuseBlockingRows } from '../blocking-rows.js';

/**
 * Build the migrated file in one pass from the baseline (the held source itself on the
 * old-file route, else the snapshot), which is attached and only read: the v5 schema (SQLite's own ALTER
 * TABLE writes the new columns into the CREATE text, on the still empty tables), every row by
 * INSERT … SELECT with the backfill computed in the SELECT, then the indexes, then triggers
 * and views, which therefore never fire on the copied rows.
 *
 * The work file is private and is thrown away on any failure, so its rollback journal and
 * fsyncs would buy nothing: journal_mode=OFF, synchronous=OFF, one fsync before publishing.
 */
export const transformStep: Step<PreflightOut & SnapshotOut, TransformOut> = {
  name: 'transform',
  async run(ctx, { snapshot, inspection, sourceDb, rowsScanned, sourceChecked }) {
    const workFile = tempPathBeside(path.join(ctx.workDir, path.basename(ctx.config.targetDb)), 'work');
    createEmptyExclusive(workFile);
    ctx.cleanups.push(() => removeDatabaseFiles(workFile));
    const db = openWritable(workFile, ctx.config.busyTimeoutMs);
    ctx.cleanups.push(() => db.open && db.close());
    // better-sqlite3 runs connections in SQLite's defensive mode, which silently refuses
    // journal_mode=OFF (https://sqlite.org/c3ref/c_dbconfig_defensive.html); lift it just for this.
    db.unsafeMode(true);
    db.pragma('journal_mode = OFF');
    db.unsafeMode(false);
    db.pragma('synchronous = OFF');
    // Rows are appended; the cache serves the index builds' sorter. 8 MiB: no slower than 16 at 100k, 8 MiB less RSS.
    db.pragma('cache_size = -8192');
    // The app runs with SQLite's default (no enforcement), and sources may hold violations that
    // are reported, not repaired; better-sqlite3 would otherwise enforce them during the copy.
    db.pragma('foreign_keys = OFF');
    ctx.unit.prepare(db);
    const noted = ctx.unit.build.prepare(db);
    // Planned from the source's schema: the snapshot is a copy of it.
    const plan = ctx.unit.build.plan(describeBaseline(sourceDb), inspection, { runDate: ctx.runDate });
    // For progress only: the counts when preflight took them, else each table's largest rowid.
    const totalRows = plan.copies.reduce((sum, c) => sum + (ctx.report.countsBefore[c.table] ?? estimatedRows(sourceDb, c.table)), 0);
    const { rowsCopied } = await applyBuild(db, snapshot.baseline, plan, {
      totalRows,
      onRows: (done, total, table) => ctx.emit({ step: 'transform', phase: 'progress', done, total, unit: 'rows', label: table }),
      checkpoint: (point) => ctx.checkpoint(point),
      yieldNow: yieldToEventLoop,
      beforeCommit: (work) => recordVersion(work, ctx),
    }).catch(async (error: unknown) => {
      const failure = toToolError(error, workFile);
      // Damage the build ran into sits in what it read, not in the file it wrote: the source's
      // own quick_check (running in its worker) says so and names the source.
      if (failure instanceof InputError) await sourceChecked;
      throw failure;
    });
    // Rows preflight would have refused, had it read them (plan and --strict do, first).
    if (!rowsScanned) refuseBlockingRows(noted.blocking?.() ?? [], 'Nothing was published; the migrated copy was discarded.');
    mergeWarnings(ctx, noted.warnings());
    // The disk writes the work file back while verification reads it; publish waits for it.
    const workSynced = fsyncInBackground(workFile);
    return {
      status: 'ok',
      detail: `${plan.tables.length + plan.indexes.length} schema statements, ${rowsCopied.toLocaleString('en-US')} rows built`,
      out: { workFile, workDb: db, workSynced },
    };
  },
};

/** Warnings collected in preflight (plan, --strict) stand; otherwise the build's notes are the run's warnings. */
function mergeWarnings(ctx: RunContext, noted: Warning[]): void {
  const known = new Set(ctx.report.warnings.map((w) => w.code));
  ctx.report.warnings = [...noted.filter((w) => !known.has(w.code)), ...ctx.report.warnings];
}

/**
 * The migrated file says which version of the built-in set it is at, in golang-migrate's
 * schema_migrations and dbshift's history, committed with the change itself: `dbshift up
 * --set health-records` and `dbshift version` then pick up where `migrate` left off.
 */
function recordVersion(db: Db, ctx: RunContext): void {
  const record = ctx.unit.version;
  if (!record || readVersion(db).version >= record.version) return;
  ensureStateTables(db);
  writeVersion(db, { version: record.version, dirty: false });
  appendHistory(db, { ...record, direction: 'up', appliedAt: ctx.runDate.toISOString(), durationMs: 0 });
}

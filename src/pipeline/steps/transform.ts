import { applyPlan } from '../../plans/apply.js';
import { toToolError } from '../../errors.js';
import { journalMode } from '../../sqlite/introspect.js';
import { openWritable } from '../../sqlite/open.js';
import { yieldToEventLoop } from '../../yield.js';
import type { Step } from '../run.js';
import type { RunContext } from '../context.js';
import type { Db } from '../../sqlite/open.js';
import { appendHistory, ensureStateTables, readVersion, writeVersion } from '../../engine/state.js';

/**
 * The schema change and backfill, in one transaction on the private work file.
 *
 * The work file is a copy nobody else can see: on any failure it is thrown away and the
 * production database was never involved. So its rollback journal and fsyncs would only buy
 * the ability to roll back a file that is discarded anyway; they are switched off
 * (journal_mode=OFF, synchronous=OFF) and durability comes from one fsync before publishing.
 */
export const transformStep: Step = {
  name: 'transform',
  async run(ctx) {
    const db = openWritable(ctx.workFile!, ctx.config.busyTimeoutMs);
    ctx.workDb = db;
    ctx.cleanups.push(() => db.open && db.close());
    ctx.workJournalMode = journalMode(db);
    // better-sqlite3 runs connections in SQLite's defensive mode, which silently refuses
    // journal_mode=OFF (https://sqlite.org/c3ref/c_dbconfig_defensive.html); lift it just for this.
    db.unsafeMode(true);
    db.pragma('journal_mode = OFF');
    db.unsafeMode(false);
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -32768');
    // The app runs with SQLite's default (no enforcement), and sources may hold violations that
    // are reported, not repaired; better-sqlite3 would otherwise enforce them during the backfill.
    db.pragma('foreign_keys = OFF');
    ctx.unit.prepare(db);
    // Plan from the work file itself: it is what the transform changes.
    const plan = ctx.unit.plan(ctx.unit.inspect(db), { runDate: ctx.runDate });
    const { rowsBackfilled } = await applyPlan(db, plan, {
      onRows: (done, total, table) => ctx.emit({ step: 'transform', phase: 'progress', done, total, unit: 'rows', label: table }),
      checkpoint: (point) => ctx.checkpoint(point),
      yieldNow: yieldToEventLoop,
      beforeCommit: (work) => recordVersion(work, ctx),
    }).catch((error: unknown) => {
      throw toToolError(error, ctx.workFile);
    });
    return { status: 'ok', detail: `${plan.schema.length + plan.finish.length} schema statements, ${rowsBackfilled.toLocaleString('en-US')} rows backfilled` };
  },
};

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

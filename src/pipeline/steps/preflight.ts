import fs from 'node:fs';
import { ConfigError, DataError, IoError, BusyError, toToolError } from '../../errors.js';
import { availableBytes, deviceOf } from '../../files/space.js';
import { sizeOf } from '../../files/durable.js';
import { asViolations, checkComplaints, foreignKeyViolations, walBytes, type ForeignKeyViolation } from '../../sqlite/checks.js';
import { countRows, journalMode, listTables } from '../../sqlite/introspect.js';
import { inBackground, type BackgroundTask } from '../../sqlite/background.js';
import { yieldToEventLoop } from '../../yield.js';
import { openReadonly, type Db } from '../../sqlite/open.js';
import type { RunContext } from '../context.js';
import type { Step } from '../run.js';
import { readVersion } from '../../engine/state.js';
import { foreignKeyWarnings } from '../verification.js';
import { assertReplaceable } from '../../sqlite/replaceable.js';
import { NOTHING_CHANGED, openSourceForReading, requireSecretKey, sourceCorrupt } from '../source-access.js';
import type { PreflightOut } from '../step-data.js';
import { sourceReplacedAtPublish } from '../backup-files.js';
import { estimatedRows, refuseBlockingRows } from '../blocking-rows.js';
import type { SpaceNeed } from '../types.js';

/**
 * Refuse early, with nothing written: every check of the spec's preflight, on the source.
 * The warnings scan is a full read of the largest tables; `migrate` leaves it to the build,
 * which notes the same warnings as the rows go by. `plan` and `--strict` need them first.
 */
export function preflightStep(options: { collectWarnings: 'always' | 'when-strict'; awaitChecks: boolean }): Step<object, PreflightOut> {
  return {
    name: 'preflight',
    async run(ctx) {
      requireSecretKey(ctx.config.secretKey);
      // Before our own connection to the source opens: when the source is the target, it would count as the app's.
      assertReplaceable(ctx.config.targetDb, ctx.config.busyTimeoutMs, NOTHING_CHANGED);
      const { db, dataVersion } = openSourceForReading(ctx);
      const early = options.collectWarnings === 'always' || ctx.options.strict === true;
      // Under --strict and in plan, the foreign-key warnings are needed here, before anything is written.
      const pragmas = early ? ['quick_check'] : ['quick_check', 'foreign_key_check'];
      const checks = inBackground<unknown[][]>({ kind: 'pragma', file: fs.realpathSync(ctx.source), pragmas });
      ctx.cleanups.push(() => checks.cancel());
      ctx.unit.prepare(db);
      const inspection = ctx.unit.inspect(db);
      ctx.report.inspection = inspection;
      if (inspection.blockers.length > 0) {
        throw new DataError('unknown-schema', `${ctx.source} is not a HealthSum database dbshift can migrate: ${inspection.blockers.join(', ')}.`, {
          hint: 'Check that SOURCE_DB points at the HealthSum database.',
          dataState: NOTHING_CHANGED,
        });
      }
      const versionState = readVersion(db);
      if (versionState.dirty) {
        throw new DataError('database-dirty', `${ctx.source} is marked dirty at version ${versionState.version} in schema_migrations: a migration outside a transaction failed half-way.`, {
          hint: `Inspect it, then run \`dbshift force ${versionState.version}\` on it before migrating.`,
          dataState: NOTHING_CHANGED,
        });
      }
      checkKey(ctx, db);
      checkTarget(ctx);
      ctx.emit({ step: 'preflight', phase: 'progress', done: 0, total: 1, unit: 'steps', label: 'row ids and counts' });
      await yieldToEventLoop();
      // The id check and the counts read every row of the largest tables: a plain migrate leaves
      // them to the build's pass (malformed ids refused after the build, counts from the
      // verification's); plan and --strict need them first, and a v5 source has no build.
      const rowsScanned = early || inspection.complete;
      const scan = inspection.complete || !rowsScanned ? undefined : ctx.unit.blockingRows?.(db, inspection);
      const tables = rowsScanned ? listTables(db) : [];
      for (const [i, table] of tables.entries()) {
        ctx.report.countsBefore[table.name] = scan?.counts[table.name] ?? countRows(db, table.name);
        ctx.emit({ step: 'preflight', phase: 'progress', done: i + 1, total: tables.length, unit: 'tables', label: `counting ${table.name}` });
        await yieldToEventLoop();
      }
      let foreignKeysBefore: ForeignKeyViolation[] | undefined;
      const sourceChecked = sourceVerdict(ctx, checks, () => foreignKeysBefore);
      sourceChecked.catch(() => {});
      const out = { sourceDb: db, sourceDataVersion: dataVersion, sourceJournalMode: journalMode(db), inspection, sourceChecked, warningsCollected: false, rowsScanned };
      if (inspection.complete) {
        await sourceChecked;
        return { status: 'ok', detail: `schema is ${inspection.state}`, stop: 'nothing-to-do', out };
      }
      refuseBlockingRows(scan?.blocking ?? []);
      reportTriggers(ctx, db);

      if (early) {
        ctx.emit({ step: 'preflight', phase: 'progress', done: 0, total: 1, unit: 'steps', label: 'foreign_key_check' });
        await yieldToEventLoop();
        foreignKeysBefore = foreignKeyViolations(db);
        ctx.report.warnings = foreignKeyWarnings(foreignKeysBefore, ' (already in the source)');
        ctx.emit({ step: 'preflight', phase: 'progress', done: 0, total: 1, unit: 'steps', label: 'warnings scan' });
        await yieldToEventLoop();
        ctx.report.warnings = [...ctx.unit.warnings(db, inspection, { runDate: ctx.runDate }), ...ctx.report.warnings];
        out.warningsCollected = true;
      }
      if (ctx.options.strict && ctx.report.warnings.length > 0) {
        throw new DataError('strict-warnings', `--strict: the run would raise ${ctx.report.warnings.length} kind(s) of warning: ${ctx.report.warnings.map((w) => `${w.code} (${w.count})`).join(', ')}.`, {
          hint: 'Fix the data or run without --strict to accept the warnings.',
          dataState: NOTHING_CHANGED,
        });
      }
      const spaceNeeded = estimateSpace(ctx, db);
      ctx.report.plan = { statements: [], spaceNeeded, triggers: [] };
      const short = spaceNeeded.find((s) => s.availableBytes < s.neededBytes);
      if (short) {
        throw new IoError('insufficient-space', `Not enough space in ${short.directory}: ${mib(short.neededBytes)} needed for ${short.for.join(' + ')}, ${mib(short.availableBytes)} free.`, {
          hint: 'Free space, or point INSTANCE_DIR / BACKUP_DIR at a bigger disk.',
          dataState: NOTHING_CHANGED,
        });
      }
      if (options.awaitChecks) await sourceChecked;
      const warnings = out.warningsCollected ? `${ctx.report.warnings.length} kind(s) of warning` : 'warnings noted during the build';
      return { status: 'ok', detail: `schema is ${inspection.state}; ${warnings}`, out };
    },
  };
}

/**
 * The worker's verdict on the source: 66 if quick_check complains; otherwise the foreign-key
 * violations already in it (from the worker, or from the preflight itself under --strict).
 */
async function sourceVerdict(ctx: RunContext, task: BackgroundTask<unknown[][]>, known: () => ForeignKeyViolation[] | undefined): Promise<ForeignKeyViolation[]> {
  const [quick = [], foreignKeys] = await task.result.catch((error: unknown) => {
    throw toToolError(error, ctx.source);
  });
  const complaints = checkComplaints(quick);
  if (complaints.length > 0) throw sourceCorrupt(ctx, complaints, 'Nothing was published; the production database was not touched.');
  const before = known();
  if (before) return before;
  const violations = asViolations(foreignKeys ?? []);
  ctx.report.warnings.push(...foreignKeyWarnings(violations, ' (already in the source)'));
  return violations;
}

/** Triggers are carried over unchanged; the build creates them after the data, so they never fire on it. */
function reportTriggers(ctx: RunContext, db: Db): void {
  const triggers = db.prepare(`SELECT name, tbl_name AS tableName FROM sqlite_master WHERE type = 'trigger' ORDER BY tbl_name, name`).all() as Array<{ name: string; tableName: string }>;
  if (triggers.length === 0) return;
  ctx.report.notices.push(
    `Triggers carried over unchanged, created after the data so that the backfill does not fire them: ${triggers.map((t) => `${t.name} (on ${t.tableName})`).join(', ')}.`,
  );
}

/**
 * In the operator guide's flow (a hand-made copy as input), refuse early a target that no
 * longer matches the copy: the live database changed after it was copied, and publishing
 * would drop those writes.
 */
function checkTarget(ctx: RunContext): void {
  const target = ctx.config.targetDb;
  if (!fs.existsSync(target)) return;
  if (ctx.source !== ctx.config.handPreparedDb) return;
  const differs = sizeOf(target) !== sizeOf(ctx.source) || !fileHeader(target).equals(fileHeader(ctx.source));
  if (differs && !isCompleteMigration(ctx, target)) {
    throw new BusyError('target-changed-after-copy', `${target} differs from the copy ${ctx.source}: if it is the live database, it changed after it was copied, and publishing would lose those writes.`, {
      hint: 'Stop the app, copy the database again, and rerun; better, set SOURCE_DB to the live database and let dbshift take the snapshot. If it is not the live database, move it out of the way.',
      dataState: NOTHING_CHANGED,
    });
  }
}

/** A target that is already migrated (e.g. an earlier run's result) is no live pre-v5 database. */
function isCompleteMigration(ctx: RunContext, file: string): boolean {
  let db: Db | undefined;
  try {
    db = openReadonly(file, ctx.config.busyTimeoutMs);
    ctx.unit.prepare(db);
    return ctx.unit.inspect(db).complete;
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

function fileHeader(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const header = Buffer.alloc(100);
    fs.readSync(fd, header, 0, 100, 0);
    return header;
  } finally {
    fs.closeSync(fd);
  }
}

function checkKey(ctx: RunContext, db: Db): void {
  const result = ctx.unit.checkSecretKey?.(db, ctx.config.secretKey as string);
  if (!result) return;
  if (result.sampled === 0) {
    ctx.report.notices.push('No encrypted values to test SECRET_KEY against; the key was not checked.');
    return;
  }
  if (result.opened === result.sampled) return;
  const where = result.failures.slice(0, 5).join(', ');
  throw new ConfigError(
    'secret-key-wrong',
    result.opened === 0
      ? `SECRET_KEY does not open the encrypted values (0 of ${result.sampled} sampled values decrypt). It is not the production key.`
      : `SECRET_KEY opens only ${result.opened} of ${result.sampled} sampled encrypted values; these do not decrypt: ${where}.`,
    {
      hint: 'Use the same SECRET_KEY as the production app; the app could not read its data with this one.',
      dataState: NOTHING_CHANGED,
    },
  );
}

// Rough upper bound of what v5 adds per row: identifier, timestamps, status, and the unique index entry.
const GROWTH_PER_REPORT = 160;
const GROWTH_PER_RECORD = 64;

function estimateSpace(ctx: RunContext, db: Db): SpaceNeed[] {
  const sourceBytes = sizeOf(ctx.source) + walBytes(ctx.source);
  const rows = (table: string) => ctx.report.countsBefore[table] ?? estimatedRows(db, table);
  const growth = rows('report') * GROWTH_PER_REPORT + rows('health_record') * GROWTH_PER_RECORD;
  const needs = [{ directory: ctx.workDir, bytes: sourceBytes + growth, what: 'work file' }];
  // The old file itself becomes the backup when the source is replaced at publish and quiescent
  // (decided at the snapshot, which checks the room for a copy if it has to make one).
  if (!sourceReplacedAtPublish(ctx).ok || walBytes(ctx.source) > 0) needs.push({ directory: ctx.backupDir, bytes: sourceBytes, what: 'backup' });
  const byDevice = new Map<number, SpaceNeed>();
  for (const need of needs) {
    const dir = existingAncestor(need.directory);
    const device = deviceOf(dir);
    const entry = byDevice.get(device) ?? { directory: need.directory, neededBytes: 0, availableBytes: availableBytes(dir), for: [] };
    entry.neededBytes += need.bytes;
    entry.for.push(need.what);
    byDevice.set(device, entry);
  }
  return [...byDevice.values()];
}

function existingAncestor(dir: string): string {
  let current = dir;
  while (!fs.existsSync(current)) current = current.slice(0, current.lastIndexOf('/')) || '/';
  return current;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

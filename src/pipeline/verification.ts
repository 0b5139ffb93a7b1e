import { DataError } from '../errors.js';
import { foreignKeyViolations, integrityCheck, newForeignKeyViolations, type ForeignKeyViolation } from '../sqlite/checks.js';
import { compareWithBaseline, type ComparisonHelper } from '../sqlite/compare.js';
import { countRows, listTables } from '../sqlite/introspect.js';
import type { Db } from '../sqlite/open.js';
import type { Inspection, MigrationUnit } from '../plans/unit.js';
import type { Check, Warning } from '../results.js';

export interface VerificationOptions {
  /** The inspection of the database before migration (for partially migrated inputs). */
  before: Inspection;
  /** Name of an attached schema holding the pristine backup; omit to skip the comparison. */
  baseline?: string;
  /** Violations already in the source; only new ones fail. Undefined: none are known. */
  foreignKeysBefore?: ForeignKeyViolation[];
  onRows?: (done: number, total: number) => Promise<void> | void;
  /** Set query_only once the temp helpers exist: nothing in verification may write, least of all the backup. */
  queryOnly?: boolean;
  /** integrity_check and foreign_key_check of `main`, already running in a worker; otherwise run here. */
  background?: { integrity: Promise<string[]>; foreignKeys: Promise<ForeignKeyViolation[]> };
  /** A second thread for the full comparison (the worker above, once its checks are done). */
  helper?: ComparisonHelper;
}

export interface Verification {
  checks: Check[];
  countsBefore: Record<string, number>;
  countsAfter: Record<string, number>;
  /** Foreign-key violations found, all of them when there is no baseline to tell old from new. */
  foreignKeyViolations: ForeignKeyViolation[];
  summary: unknown;
}

/** Everything the spec asks to prove about a migrated database, as a list of checks. */
export async function verifyMigrated(db: Db, unit: MigrationUnit, options: VerificationOptions): Promise<Verification> {
  unit.prepare(db);
  const checks: Check[] = [];
  const structural = async () => {
    const integrity = await (options.background?.integrity ?? integrityCheck(db));
    const violations = await (options.background?.foreignKeys ?? foreignKeyViolations(db));
    const fresh = options.foreignKeysBefore ? newForeignKeyViolations(options.foreignKeysBefore, violations) : [];
    const found: Check[] = [
      { name: 'integrity_check', ok: integrity.length === 0, detail: integrity.length === 0 ? 'ok' : integrity.slice(0, 5).join('; ') },
      {
        name: 'foreign_key_check',
        ok: fresh.length === 0,
        detail: fresh.length === 0 ? `no new violations (${violations.length} already in the source)` : `${fresh.length} new foreign-key violations`,
        ids: fresh.slice(0, 20).map((v) => `${v.table}#${v.rowid}`),
      },
    ];
    return { found, violations };
  };
  // Without a worker, the structural checks come first, as they always did.
  const early = options.background ? undefined : await structural();

  const countsBefore: Record<string, number> = {};
  const counted: Record<string, Record<string, number>> = {};
  // The comparison counts both sides of every table it compares; only the others are counted here.
  const comparedAfter = new Map<string, number>();
  if (options.baseline) {
    const counts = unit.rowCounts?.();
    for (const sql of counts?.setup ?? []) db.exec(sql);
    if (options.queryOnly) db.pragma('query_only = ON');
    const comparison = await compareWithBaseline(db, options.baseline, new Set(unit.fillableColumns(options.before)), options.onRows, counts?.perTable, options.helper);
    for (const t of comparison.tables) if (t.counted) counted[t.table] = t.counted;
    const countMismatch = comparison.tables.filter((t) => t.before !== t.after);
    const changed = comparison.tables.filter((t) => t.differing > 0);
    for (const t of comparison.tables) countsBefore[t.table] = t.before;
    for (const t of comparison.tables) comparedAfter.set(t.table, t.after);
    checks.push({
      name: 'row counts unchanged',
      ok: countMismatch.length === 0,
      detail: countMismatch.length === 0 ? `${comparison.tables.length} tables` : countMismatch.map((t) => `${t.table}: ${t.before} -> ${t.after}`).join(', '),
    });
    checks.push({
      name: 'pre-existing values unchanged',
      ok: changed.length === 0,
      detail:
        changed.length === 0
          ? `${comparison.tables.reduce((s, t) => s + t.before, 0).toLocaleString('en-US')} rows compared in full`
          : changed.map((t) => `${t.table}: ${t.differing} rows differ`).join(', '),
      ids: changed.flatMap((t) => t.sampleIds.map((id) => `${t.table}#${id}`)).slice(0, 20),
    });
    checks.push({
      name: 'schema objects and user_version unchanged',
      ok: comparison.schemaProblems.length === 0,
      detail: comparison.schemaProblems.length === 0 ? 'ok' : comparison.schemaProblems.join('; '),
    });
  }
  const countsAfter: Record<string, number> = {};
  for (const table of listTables(db)) countsAfter[table.name] = comparedAfter.get(table.name) ?? countRows(db, table.name);
  const own = unit.verify(db, options.before, Object.keys(counted).length > 0 ? counted : undefined);
  checks.push(...own.checks);
  const { found, violations } = early ?? (await structural());
  checks.unshift(...found);
  return { checks, countsBefore, countsAfter, foreignKeyViolations: violations, summary: own.summary };
}

export function assertAllPassed(checks: Check[], dataState: string): void {
  const failed = checks.filter((c) => !c.ok);
  if (failed.length === 0) return;
  throw new DataError('verification-failed', `Verification failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}.`, {
    hint: 'Keep the output and the backup; report the failing checks. Rerunning will not change the result.',
    dataState,
  });
}

/** Foreign-key violations as warnings, one per child table and parent table. */
export function foreignKeyWarnings(violations: ForeignKeyViolation[], note: string): Warning[] {
  const groups = new Map<string, Warning>();
  for (const v of violations) {
    const key = `${v.table}\u0000${v.parent}`;
    const warning = groups.get(key) ?? {
      code: 'foreign-key-violation',
      table: v.table,
      count: 0,
      ids: [],
      message: `rows of ${v.table} reference missing ${v.parent} rows${note}`,
    };
    warning.count++;
    if (warning.ids.length < 20 && v.rowid !== null) warning.ids.push(v.rowid);
    groups.set(key, warning);
  }
  return [...groups.values()];
}

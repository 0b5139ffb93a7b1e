import type pg from 'pg';
import type { RowChanges, TableChange } from '../../driver.js';
import { rowsLostError } from '../../row-loss.js';
import { sqlState } from './errors.js';
import { PgRowWatch, RecountNeeded, REPORT_COUNTERS_AT_END } from './row-changes.js';
import type { PgStatement } from './statements.js';

// The row-loss backstop for a migration that runs outside a transaction (docs/safety.md).
// PostgreSQL's per-transaction counters end with each statement's own transaction, so each
// statement is made a transaction of its own: BEGIN, the statement, the same proof as a
// transactional migration's (row-changes.ts: counters and catalog, no scan of an untouched
// table), COMMIT, or ROLLBACK when it lost rows it does not declare. Two kinds of statement are
// not wrapped:
//   - those PostgreSQL refuses in a transaction block that cannot remove a row (CREATE/DROP
//     INDEX CONCURRENTLY, REINDEX, VACUUM, ALTER TYPE … ADD VALUE, …): they run as they are;
//   - the rest of what cannot run in a block (PostgreSQL says so: 25001, or 2D000 for a CALL or
//     DO that commits), the file's own BEGIN … COMMIT, and a multi-statement query: every table
//     is counted before and after them, the only proof left when the counters end mid-way.

/** PostgreSQL refuses it in a transaction block (active_sql_transaction). */
const ACTIVE_SQL_TRANSACTION = '25001';
/** A COMMIT or ROLLBACK in a procedure or DO block called inside a transaction block. */
const INVALID_TRANSACTION_TERMINATION = '2D000';

/** Statements that must run outside a transaction block and that remove no row from any table. */
function removesNoRows(statement: PgStatement): boolean {
  const n = statement.node;
  switch (statement.type) {
    case 'IndexStmt': // an index's expressions and predicate are immutable: they cannot write
    case 'ReindexStmt':
    case 'VacuumStmt':
    case 'AlterEnumStmt':
    case 'AlterSystemStmt':
    case 'CreateTableSpaceStmt':
    case 'DropTableSpaceStmt':
      return true;
    case 'DropStmt':
      return n.removeType === 'OBJECT_INDEX';
    default:
      return false;
  }
}

/** What can be made a transaction of its own: one parsed statement that neither begins nor ends one. */
const wrappable = (statement: PgStatement) => statement.type !== 'Unparsed' && statement.type !== 'TransactionStmt';

export interface OutsideWatchOptions {
  client: pg.Client;
  schema: string;
  bookkeeping: ReadonlyArray<{ schema: string; name: string }>;
  deletesRows: readonly string[];
  label: string;
  /** PostgreSQL reports the counters at each transaction's end when asked (row-changes.ts). */
  countersAtZero: boolean;
}

export class PgOutsideWatch {
  /** Every table whose rows changed so far, by name: its count before the first change, after the last. */
  private readonly changed = new Map<string, TableChange>();
  /** Open while statements run that only whole counts can prove (a file's own transaction, a statement that cannot be wrapped). */
  private counting: PgRowWatch | undefined;

  constructor(private readonly options: OutsideWatchOptions) {}

  private watch(countFirst: ReadonlySet<string> | undefined, exhaustive: boolean): PgRowWatch {
    const { client, schema, bookkeeping, deletesRows, countersAtZero } = this.options;
    return new PgRowWatch({ client, schema, bookkeeping, countFirst: countFirst ?? new Set(), lastRun: exhaustive || countFirst !== undefined, exhaustive, deletesRows, countersAtZero });
  }

  /** Run one statement of the migration (`execute`), proven to lose no rows it does not declare. */
  async run<R>(statement: PgStatement, execute: () => Promise<R>): Promise<R> {
    const idle = this.options.client.getTransactionStatus() === 'I' && !this.counting;
    if (idle && removesNoRows(statement)) return execute();
    if (idle && wrappable(statement)) {
      try {
        return await this.wrapped(statement, execute);
      } catch (error) {
        // Rolled back: nothing of it took effect. It runs once more below, counted.
        if (![ACTIVE_SQL_TRANSACTION, INVALID_TRANSACTION_TERMINATION].includes(sqlState(error) ?? '')) throw error;
      }
    }
    if (!this.counting) {
      this.counting = this.watch(undefined, true);
      await this.counting.begin();
    }
    const result = await execute();
    if (this.options.client.getTransactionStatus() === 'I') await this.closeCounting();
    return result;
  }

  /** BEGIN, the statement, the proof, COMMIT; once more with exact counts when the counters cannot prove it (row-changes.ts). */
  private async wrapped<R>(statement: PgStatement, execute: () => Promise<R>, countFirst?: ReadonlySet<string>): Promise<R> {
    const { client } = this.options;
    await client.query(this.options.countersAtZero ? `BEGIN; ${REPORT_COUNTERS_AT_END}` : 'BEGIN');
    try {
      const watch = this.watch(countFirst, false);
      await watch.begin();
      await watch.beforeStatement(statement);
      const result = await execute();
      const { changed, lost } = await watch.changes(this.options.deletesRows);
      if (lost.length > 0) throw rowsLostError(this.options.label, lost);
      await client.query('COMMIT');
      this.merge(changed);
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (error instanceof RecountNeeded && countFirst === undefined) return this.wrapped(statement, execute, error.oids);
      throw error;
    }
  }

  private async closeCounting(): Promise<void> {
    const watch = this.counting!;
    this.counting = undefined;
    const { changed, lost } = await watch.changes(this.options.deletesRows);
    this.merge(changed);
    // Committed already (outside a transaction nothing can be rolled back): stop here, dirty.
    if (lost.length > 0) throw rowsLostError(this.options.label, lost);
  }

  private merge(changes: readonly TableChange[]): void {
    for (const change of changes) {
      const earlier = this.changed.get(change.was ?? change.name) ?? this.changed.get(change.name);
      if (earlier) this.changed.delete(earlier.name);
      const was = earlier?.was ?? change.was;
      this.changed.set(change.name, { name: change.name, ...(was && was !== change.name ? { was } : {}), before: earlier ? earlier.before : change.before, after: change.after });
    }
  }

  /** After the migration: every table whose rows changed (a loss was refused where it happened). */
  async finish(): Promise<RowChanges> {
    if (this.counting && this.options.client.getTransactionStatus() === 'I') await this.closeCounting();
    return { changed: [...this.changed.values()].filter((t) => t.before !== t.after), lost: [] };
  }
}

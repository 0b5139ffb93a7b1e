import type pg from 'pg';
import { InputError, InterruptedError } from '../../../errors.js';
import type { DriverSession } from '../../driver.js';
import type { PgContext } from './context.js';
import { LOCK_NOT_AVAILABLE, sqlState } from './errors.js';
import { PgOutsideWatch } from './outside-watch.js';
import { countersStartAtZero, PgRowWatch } from './row-changes.js';
import { RESET_SESSION_IN_TRANSACTION } from './session.js';
import { endsTransaction, isOwnTransactionControl, splitPgStatementsAsync, PgSyntaxError, type PgStatement } from './statements.js';
import { PgVersionTable } from './version-table.js';

// One migration's session on the work connection: what the engine's DriverSession asks for, as
// PostgreSQL does it with the fewest round trips. The transaction's BEGIN waits for the first
// query and the COMMIT goes with the last bookkeeping; the migration's statements run here, with
// the row-loss backstop around them (row-changes.ts, outside-watch.ts); after the migration's own
// SET ROLE, dbshift's checks and bookkeeping run as dbshift again. The driver keeps what outlives
// one migration (the connection, the lock, the transaction and its retries, COMMIT or ROLLBACK)
// and hands this file only what it needs of it: a MigrationSessionHost.

/** What a migration's session uses of the driver, and nothing more. */
export interface MigrationSessionHost {
  /** The work session. */
  readonly client: pg.Client;
  /** The version table and its history: written by query, or as text that shares a round trip. */
  readonly versions: PgVersionTable;
  /** The schema an unqualified name means (the driver's): where the backstop resolves `deletesRows`. */
  readonly schema: string;
  readonly serverVersionNum: number;
  /** The row-loss backstop's second run of a migration: the tables to count first (row-changes.ts). */
  readonly countFirst: ReadonlySet<string> | undefined;
  /** Statements that took effect in the current autocommit run. */
  readonly doneOutside: number;
  /** The statement about to be sent (the driver names it when it hits the lock timeout). */
  nowRunning(statement: PgStatement): void;
  /** Outside a transaction, a statement took effect. */
  tookEffectOutside(): void;
  /** Outside a transaction, only a first statement that took no effect may be tried again. */
  retryOutside(statement: PgStatement, first: unknown, again: () => Promise<unknown>): Promise<void>;
  /** dbshift's own login and timeouts as SQL text (`local`: SET LOCAL, for the transaction only). */
  ownSettingsSql(local: boolean): string;
  /** Throws when a statement whose error the migration caught aborted the transaction (COMMIT would roll it back silently). */
  assertTransactionAlive(label: string): void;
  /** Throws when the server ended the session holding the migration lock. */
  assertLockHeld(label: string): void;
}

/** The engine's session, plus what the driver's transaction() needs to end it. */
export type MigrationSession = DriverSession<PgContext> & {
  /** finishMigration sent the COMMIT: the driver sends none. */
  readonly committed: boolean;
  /** Send the deferred BEGIN now, if it is still unsent. */
  open(): Promise<void>;
};

/**
 * `opening`: the transaction's BEGIN (and its settings), not sent yet: it goes with the
 * session's first query (startMigration's, one round trip less), or on its own before any other.
 */
export function migrationSession(host: MigrationSessionHost, inTransaction: boolean, label: string, opening?: string): MigrationSession {
  const { client, versions, schema } = host;
  let unsent = opening;
  const open = async () => {
    if (unsent === undefined) return;
    const text = unsent;
    unsent = undefined;
    await client.query(text);
  };
  let watch: PgRowWatch | undefined;
  /** finishMigration committed the transaction with the bookkeeping (one round trip less): nothing runs in it after. */
  let committed = false;
  let outside: PgOutsideWatch | undefined;
  let revoked = false;
  /** The statement itself; outside a transaction, made a transaction of its own for the backstop (outside-watch.ts). */
  const attempt = async (statement: PgStatement, params?: unknown[]) => {
    host.nowRunning(statement);
    const execute = () => client.query(params ? { text: statement.text, values: params } : statement.text);
    const result = outside ? await outside.run(statement, execute) : await execute();
    if (!inTransaction) host.tookEffectOutside();
    return result;
  };
  const run = async (statement: PgStatement, params?: unknown[]) => {
    if (revoked) {
      throw new InterruptedError('context-revoked', `${label} has ended: its code can no longer reach the database (a statement it left running, or queued after Ctrl-C).`);
    }
    await open();
    await watch?.beforeStatement(statement);
    return attempt(statement, params);
  };
  const parse = async (sql: string): Promise<PgStatement[]> => {
    try {
      return await splitPgStatementsAsync(sql);
    } catch (error) {
      if (!(error instanceof PgSyntaxError)) throw error;
      // The server's own message is the one to show: let it reject the text.
      return [{ text: sql, line: error.line, type: 'Unparsed', node: {} }];
    }
  };
  const refuseTransactionEnd = (statement: PgStatement) => {
    if (inTransaction && (endsTransaction(statement) || isOwnTransactionControl(statement))) {
      throw new InputError('transaction-control', `Line ${statement.line}: ${statement.text.split(/\s/)[0]} would end the migration's transaction, and with it dbshift's bookkeeping.`, {
        hint: 'Remove it: every migration runs in one transaction already. For work that must commit separately, use a separate migration, or -- dbshift:no-transaction.',
      });
    }
  };
  const ctx: PgContext = {
    query: async <R extends pg.QueryResultRow>(sql: string, params?: unknown[]) => {
      const statements = await parse(sql);
      for (const s of statements) refuseTransactionEnd(s);
      const statement = statements.length === 1 ? { ...statements[0]!, text: sql } : { text: sql, line: 1, type: 'Unparsed', node: {} };
      return (await run(statement, params ?? [])).rows as R[];
    },
    exec: async (sql: string) => {
      for (const statement of await parse(sql)) {
        // golang-migrate users wrap files in BEGIN/COMMIT because it does not: inside
        // dbshift's transaction those are folded in, so the file's COMMIT cannot commit half of it.
        if (inTransaction && isOwnTransactionControl(statement)) continue;
        refuseTransactionEnd(statement);
        try {
          await run(statement);
        } catch (error) {
          if (!inTransaction && sqlState(error) === LOCK_NOT_AVAILABLE && host.doneOutside === 0 && statement.type !== 'IndexStmt') {
            await host.retryOutside(statement, error, () => attempt(statement));
            continue;
          }
          throw located(error, statement);
        }
      }
    },
  };
  // The migration's SET ROLE, SET SESSION AUTHORIZATION or timeouts are its own: the checks and
  // bookkeeping after it run as dbshift's login with dbshift's timeouts (in the same transaction).
  let restored: Promise<void> | undefined;
  const restoreOwnSettings = async () => {
    await client.query(host.ownSettingsSql(inTransaction));
  };
  const asDbshift = async <T>(work: () => Promise<T>): Promise<T> => {
    await open();
    if (revoked) await (restored ??= restoreOwnSettings());
    return work();
  };
  /** The same restoration as text, for the next statement of dbshift's to carry (one round trip less), if it is still owed. */
  const restoreInline = (): string | undefined => {
    if (!revoked || restored) return undefined;
    restored = Promise.resolve();
    return host.ownSettingsSql(inTransaction);
  };
  const bookkeeping = versions.bookkeeping;
  const countersAtZero = countersStartAtZero(host.serverVersionNum);
  const newWatch = (deletesRows: readonly string[]) =>
    new PgRowWatch({ client, schema, bookkeeping, countFirst: host.countFirst ?? new Set(), lastRun: host.countFirst !== undefined, exhaustive: false, deletesRows, countersAtZero });
  const watchRows = async (deletesRows: readonly string[]) => {
    await open();
    if (!inTransaction) {
      outside = new PgOutsideWatch({ client, schema, bookkeeping, deletesRows, label, countersAtZero });
      return;
    }
    watch = newWatch(deletesRows);
    await watch.begin();
  };
  /** golang-migrate's table (dbmate's is written statement by statement): its bookkeeping can share round trips. */
  const oneRoundTrip = async () => inTransaction && (await versions.kind()) === 'golang-migrate';
  return {
    ctx,
    readVersion: () => asDbshift(() => versions.read()),
    writeVersion: (state) => asDbshift(() => versions.write(state)),
    appendHistory: (entry) => asDbshift(() => versions.append(entry)),
    watchRows: (deletesRows) => watchRows(deletesRows),
    startMigration: async (deletesRows, mark) => {
      if (!(await oneRoundTrip())) {
        await open();
        const now = await versions.read();
        await watchRows(deletesRows);
        await versions.write(mark);
        return now;
      }
      watch = newWatch(deletesRows);
      const start = watch.startRead;
      // The BEGIN, if still unsent, goes first in the same text (our own statements: no `;` inside them).
      const opened = unsent === undefined ? 0 : unsent.split('; ').length;
      const prefix = unsent === undefined ? '' : `${unsent}; `;
      unsent = undefined;
      const results = (await client.query(`${prefix}${versions.readSql()}; ${start.sql}; ${versions.writeSql(mark)}`)) as unknown as pg.QueryResult[];
      await watch.begin(results.slice(opened + 1, opened + 1 + start.results));
      return PgVersionTable.stateOf(results[opened]!.rows[0] as { version: string; dirty: boolean } | undefined);
    },
    finishMigration: async (state, entry) => {
      await open();
      if (!(await oneRoundTrip())) {
        await asDbshift(() => versions.write(state));
        await asDbshift(() => versions.append(entry));
        return;
      }
      const before = restoreInline();
      const history = versions.appendSql(entry);
      // The transaction's last work: what transaction() checks before its COMMIT is checked here, and the COMMIT goes with it.
      host.assertTransactionAlive(label);
      host.assertLockHeld(label);
      // The session is put back to how it connected in the same text: no DISCARD ALL after it.
      await client.query(`${before ? `${before}; ` : ''}${versions.writeSql(state)}; ${history}; ${RESET_SESSION_IN_TRANSACTION}; COMMIT`);
      committed = true;
    },
    rowChanges: async (deletesRows) => {
      await open();
      if (outside) return asDbshift(() => outside!.finish());
      if (!watch) return { changed: [], lost: [] };
      const before = restoreInline();
      return asDbshift(() => watch!.changes(deletesRows, before));
    },
    revokeContext: () => (revoked = true),
    ...(inTransaction
      ? {
          checkBeforeCommit: async () => {
            await open();
            host.assertTransactionAlive(label);
          },
        }
      : {}),
    get committed() {
      return committed;
    },
    open,
  };
}

/** The failing statement's line goes into the message; the SQLSTATE stays on the error. */
export function located(error: unknown, statement: PgStatement): unknown {
  if (error && typeof error === 'object' && 'message' in error && sqlState(error) && statement.type !== 'Unparsed') {
    const e = error as Error & { dbshiftLine?: number };
    if (e.dbshiftLine === undefined) {
      e.dbshiftLine = statement.line;
      e.message = `line ${statement.line}: ${e.message}`;
    }
  }
  return error;
}

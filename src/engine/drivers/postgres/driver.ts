import pg from 'pg';
import zlib from 'node:zlib';
import { BusyError, DataError, InputError, InterruptedError } from '../../../errors.js';
import type { BackupRef, Driver, DriverSession, FailureReport, LockOptions } from '../../driver.js';
import type { LintFinding } from '../../lint-registry.js';
import type { HistoryEntry, MigrationSet, MigrationStep, VersionState } from '../../types.js';
import { dumpDatabase } from './backup.js';
import { invalidIndexes, lockTimeoutError } from './diagnostics.js';
import { connectionLost, IN_FAILED_TRANSACTION, LOCK_NOT_AVAILABLE, QUERY_CANCELED, serverStateError, sqlState } from './errors.js';
import { connectClient, type PgTarget } from './connection.js';
import { openLockSession, resetSession, type LockSession } from './session.js';
import { readLiveTables } from './live-tables.js';
import { located, migrationSession, type MigrationSessionHost } from './migration-session.js';
import type { PgContext } from './context.js';
import { PgVersionTable } from './version-table.js';
import { countersStartAtZero, RecountNeeded, REPORT_COUNTERS_AT_END } from './row-changes.js';
import { loadParser, preparsePgFiles, type PgStatement } from './statements.js';

// golang-migrate's postgres driver, made safe: its own schema_migrations table and advisory
// lock id (so either tool can continue the other's database and they exclude each other), and
// on top each migration with its bookkeeping in one transaction, a lock_timeout with bounded
// retries, and what a failed no-transaction migration left behind.

export type { PgContext };

export interface PgOptions {
  /** lock_timeout for every migration statement (default 5 s). 0 turns it off. */
  lockTimeoutMs?: number;
  /** How many times a migration that hit the lock timeout is tried again (default 3), with doubling waits from retryDelayMs (default 1 s). */
  lockRetries?: number;
  retryDelayMs?: number;
  /** statement_timeout for every migration statement (default: the server's). */
  statementTimeoutMs?: number;
  /** The version table: "table" or "schema.table" (default schema_migrations in the current schema; the URL's x-migrations-table also sets it). */
  migrationsTable?: string;
  /** Ctrl-C: the running statement is cancelled on the server (pg_cancel_backend), so a long one does not hold the operator. */
  signal?: AbortSignal;
}

const ADVISORY_LOCK_SALT = 1486364155n;
/** How long an interrupted run waits for its ROLLBACK before ending the session on the server. */
const ROLLBACK_GRACE_MS = 3000;

/** golang-migrate's GenerateAdvisoryLockId(database, schema, table): CRC-32 of "schema\0table\0database" times its salt, as uint32. */
export function advisoryLockId(database: string, schema: string, table: string): string {
  const sum = BigInt(zlib.crc32(Buffer.from([schema, table, database].join('\0'), 'utf8')));
  return String((sum * ADVISORY_LOCK_SALT) & 0xffffffffn);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

export class PostgresDriver implements Driver<PgContext> {
  readonly dialect = 'postgres' as const;
  readonly location: string;
  private locked = false;
  /** The migration lock's own session (see session.ts: DISCARD ALL on the work session would release it). */
  private lockSession: LockSession | undefined;
  /** The statement running now (for naming what blocked it). */
  private current: PgStatement | undefined;
  /** Statements that took effect in the current autocommit run. */
  private doneOutside = 0;
  private invalidBefore = new Set<string>();
  /** The row-loss backstop's second run of a migration: the tables to count first (row-changes.ts). */
  private countFirst: ReadonlySet<string> | undefined;
  /** The version table and its history (golang-migrate's or dbmate's). */
  private readonly versions: PgVersionTable;

  private constructor(
    private readonly client: pg.Client,
    readonly target: PgTarget,
    readonly database: string,
    readonly schema: string,
    readonly table: string,
    readonly serverVersionNum: number,
    readonly pid: number,
    private readonly options: Required<Omit<PgOptions, 'statementTimeoutMs' | 'migrationsTable' | 'signal'>> & Pick<PgOptions, 'statementTimeoutMs' | 'signal'>,
  ) {
    this.location = target.display;
    this.versions = new PgVersionTable(client, schema, table);
    options.signal?.addEventListener('abort', () => void this.cancelRunning(), { once: true });
  }

  /** Cancel what this session runs now, from a second connection (the protocol's own cancel needs no password, but pg has no API for it). */
  private cancelRunning(): Promise<void> {
    return this.signalBackend('pg_cancel_backend');
  }

  /** pg_cancel_backend / pg_terminate_backend on the work session, from the lock's session or a new one. */
  private async signalBackend(fn: 'pg_cancel_backend' | 'pg_terminate_backend'): Promise<void> {
    const lockClient = this.lockSession && !this.lockSession.lost ? this.lockSession.client : undefined;
    const other = lockClient ?? new pg.Client({ connectionString: this.target.clientUrl });
    try {
      if (!lockClient) await other.connect();
      await other.query(`SELECT ${fn}($1)`, [this.pid]);
    } catch {
      // The statement then runs to its end; the runner still stops before the next commit.
    } finally {
      if (!lockClient) await other.end().catch(() => undefined);
    }
  }

  /**
   * End the transaction the work session is in. After Ctrl-C the migration's code may still have
   * a statement running that ignores the cancel: then the session is ended on the server, which
   * rolls its transaction back and releases its locks.
   */
  private async rollback(): Promise<void> {
    const done = this.client.query('ROLLBACK').then(
      () => true,
      () => true,
    );
    if (!this.options.signal?.aborted) {
      await done;
      return;
    }
    const ended = await Promise.race([done, sleep(ROLLBACK_GRACE_MS).then(() => false)]);
    if (!ended) await this.signalBackend('pg_terminate_backend');
  }

  /** A statement cancelled because the operator pressed Ctrl-C is an interruption, not the migration's failure. */
  private interrupted(error: unknown): unknown {
    if (sqlState(error) !== QUERY_CANCELED || !this.options.signal?.aborted) return error;
    return new InterruptedError('interrupted', 'Interrupted: the running statement was cancelled on the server.', { hint: 'Run the same command again when ready.', cause: error });
  }

  static async open(target: PgTarget, options: PgOptions = {}): Promise<PostgresDriver> {
    const client = await connectClient(target.clientUrl, target.display, options.signal);
    try {
      const { rows } = await client.query<{ db: string; schema: string | null; v: number; pid: number }>(
        `SELECT current_database() AS db, current_schema() AS schema, current_setting('server_version_num')::int AS v, pg_backend_pid() AS pid`,
      );
      const row = rows[0]!;
      let schema = row.schema;
      let table = 'schema_migrations';
      const fromOption = options.migrationsTable?.split('.');
      if (target.migrationsTable) {
        table = target.migrationsTable.table;
        if (target.migrationsTable.schema) schema = target.migrationsTable.schema;
      } else if (fromOption) {
        table = fromOption.at(-1)!;
        if (fromOption.length === 2) schema = fromOption[0]!;
      }
      if (!schema) {
        throw new InputError('no-schema', `${target.display} has no current schema (search_path names no existing schema).`, {
          hint: 'Create the schema, or set search_path in the URL: ?options=-c%20search_path%3Dmyschema',
          dataState: 'Nothing was changed.',
        });
      }
      return new PostgresDriver(client, target, row.db, schema, table, row.v, row.pid, {
        lockTimeoutMs: options.lockTimeoutMs ?? 5000,
        lockRetries: options.lockRetries ?? 3,
        retryDelayMs: options.retryDelayMs ?? 1000,
        ...(options.statementTimeoutMs !== undefined ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  get lockId(): string {
    return advisoryLockId(this.database, this.schema, this.table);
  }

  // ---- lock -------------------------------------------------------------------------------

  /** Session-level (not transaction-level: that deadlocks CREATE INDEX CONCURRENTLY), polled so that waiting is bounded and cancellable. */
  async lock(options: LockOptions): Promise<string[]> {
    const deadline = Date.now() + (options.wait ? options.waitMs : 0);
    this.lockSession ??= await openLockSession(this.target.clientUrl, this.target.display);
    for (let attempt = 0; ; attempt++) {
      const { rows } = await this.lockSession.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [this.lockId]);
      if (rows[0]!.ok) {
        this.locked = true;
        return [];
      }
      if (attempt === 0 && options.wait) {
        const holder = await this.lockHolder();
        options.onWait?.(`advisory lock ${this.lockId} is held by ${holder ? `pid ${holder.pid}` : 'another session'}`);
      }
      if (Date.now() >= deadline || options.signal?.aborted) break;
      await sleep(Math.min(250, Math.max(1, deadline - Date.now())), options.signal);
    }
    if (options.signal?.aborted) throw new InterruptedError('interrupted', 'Interrupted while waiting for the migration lock.', { dataState: 'Nothing was changed.' });
    const holder = await this.lockHolder();
    const who = holder ? `pid ${holder.pid}${holder.application_name ? ` (${holder.application_name})` : ''}, connected since ${holder.backend_start.toISOString()}` : 'a session that has just ended';
    throw new BusyError('locked', `Another migration run holds the migration lock of ${this.location} (advisory lock ${this.lockId}): ${who}.`, {
      hint: options.wait
        ? `It still held the lock after ${Math.round(options.waitMs / 1000)} s; let it finish (a golang-migrate run takes the same lock), then run the same command again.`
        : 'Let it finish (a golang-migrate run takes the same lock) and run the same command again, or pass --wait to queue behind it.',
      dataState: 'Nothing was changed.',
    });
  }

  private async lockHolder(): Promise<{ pid: number; application_name: string; backend_start: Date } | undefined> {
    const { rows } = await this.client.query<{ pid: number; application_name: string; backend_start: Date }>(
      `SELECT l.pid, a.application_name, a.backend_start
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid AND l.objsubid = 1`,
      [this.lockId],
    );
    return rows[0];
  }

  async unlock(): Promise<void> {
    const session = this.lockSession;
    this.lockSession = undefined;
    if (!session) return;
    try {
      if (this.locked && !session.lost) await session.client.query('SELECT pg_advisory_unlock($1)', [this.lockId]);
    } catch (error) {
      // A session the server ended (a restart) held the lock no longer: nothing to release, and
      // the run's own failure, not this, is the story to tell.
      if (!connectionLost(error)) throw error;
    } finally {
      this.locked = false;
      // Ending the session releases the lock in any case.
      await session.client.end().catch(() => undefined);
    }
  }

  /** The session that holds the migration lock while this driver holds it (the pid another run's "busy" error names). */
  get lockPid(): number | undefined {
    return this.locked ? this.lockSession?.pid : undefined;
  }

  /** The lock's session was ended by the server (restart, pg_terminate_backend): another run may hold the lock now. */
  private assertLockHeld(label: string): void {
    if (!this.locked || !this.lockSession?.lost) return;
    throw new BusyError('lock-lost', `${label}: the session holding the migration lock was ended by the server, so another run may be migrating now.`, {
      hint: 'Check the server (a restart, or pg_terminate_backend), then run `dbshift version` and the same command again.',
    });
  }

  // ---- version and history (version-table.ts) ------------------------------------------

  knowMigrations(set: MigrationSet<PgContext>): void {
    this.versions.know(set.migrations);
  }

  readVersion(): Promise<VersionState> {
    return this.versions.read();
  }

  readHistory(): Promise<HistoryEntry[]> {
    return this.versions.history();
  }

  setVersion(state: VersionState, entry?: HistoryEntry): Promise<void> {
    return this.versions.set(state, entry);
  }

  // ---- running migrations ---------------------------------------------------------------

  /** What a migration's session uses of this driver (migration-session.ts). */
  private sessionHost(): MigrationSessionHost {
    // countFirst and doneOutside are read when the session needs them, as the driver has them then.
    const driver = this;
    return {
      client: this.client,
      versions: this.versions,
      schema: this.schema,
      serverVersionNum: this.serverVersionNum,
      get countFirst() {
        return driver.countFirst;
      },
      get doneOutside() {
        return driver.doneOutside;
      },
      nowRunning: (statement) => {
        this.current = statement;
      },
      tookEffectOutside: () => {
        this.doneOutside++;
      },
      retryOutside: (statement, first, again) => this.retryOutside(statement, first, again),
      ownSettingsSql: (local) => this.ownSettingsSql(local),
      assertTransactionAlive: (label) => this.assertTransactionAlive(label),
      assertLockHeld: (label) => this.assertLockHeld(label),
    };
  }

  /** Outside a transaction, only a first statement that took no effect may be tried again. */
  private async retryOutside(statement: PgStatement, first: unknown, again: () => Promise<unknown>): Promise<void> {
    let last = first;
    for (let attempt = 1; attempt <= this.options.lockRetries; attempt++) {
      await sleep(this.options.retryDelayMs * 2 ** (attempt - 1));
      try {
        await again();
        return;
      } catch (error) {
        last = error;
        if (sqlState(error) !== LOCK_NOT_AVAILABLE) throw located(error, statement);
      }
    }
    throw await this.lockTimeoutError(last, 'Nothing of this migration took effect.');
  }

  private ownSettingsSql(local: boolean): string {
    return `RESET SESSION AUTHORIZATION; RESET ROLE; RESET statement_timeout; RESET lock_timeout; ${this.timeoutSettings(local)}`;
  }

  private timeoutSettings(local: boolean): string {
    const scope = local ? 'LOCAL ' : '';
    const lock = `SET ${scope}lock_timeout = ${Math.max(0, Math.round(this.options.lockTimeoutMs))}`;
    return this.options.statementTimeoutMs === undefined ? lock : `${lock}; SET ${scope}statement_timeout = ${Math.max(0, Math.round(this.options.statementTimeoutMs))}`;
  }

  private async setTimeouts(local: boolean): Promise<void> {
    await this.client.query(this.timeoutSettings(local));
  }

  async transaction<T>(fn: (session: DriverSession<PgContext>) => Promise<T>, label: string): Promise<T> {
    // The parser (WASM) loads when something runs, not for a read such as `version`.
    await loadParser();
    this.countFirst = undefined;
    for (let attempt = 0; ; attempt++) {
      // The session's counters are reported when this transaction ends, so the next one's start at zero (row-changes.ts).
      const opening = `BEGIN; ${this.timeoutSettings(true)}${countersStartAtZero(this.serverVersionNum) ? `; ${REPORT_COUNTERS_AT_END}` : ''}`;
      // Once the bookkeeping is settled, BEGIN travels with the migration's first query (a round trip per migration).
      const deferred = this.versions.settled;
      if (!deferred) await this.client.query(opening);
      try {
        if (!deferred) await this.versions.ensure();
        const session = migrationSession(this.sessionHost(), true, label, deferred ? opening : undefined);
        const result = await fn(session);
        // Nothing ran in it: begin it anyway, so what the caller was promised (a committed transaction) holds.
        await session.open();
        if (!session.committed) {
          this.assertTransactionAlive(label);
          this.assertLockHeld(label);
          await this.client.query('COMMIT');
        }
        this.versions.markCommitted();
        if (!session.committed) await resetSession(this.client).catch(() => undefined);
        return result;
      } catch (error) {
        await this.rollback();
        await resetSession(this.client).catch(() => undefined);
        // The backstop could not prove from PostgreSQL's counters that no rows were lost: once
        // more, rolled back, with those tables counted before the migration starts.
        if (error instanceof RecountNeeded && this.countFirst === undefined) {
          this.countFirst = error.oids;
          attempt--;
          continue;
        }
        // The status check may run before the failed statement's ReadyForQuery arrives; then the
        // next statement fails with in_failed_sql_transaction: the same story.
        if (sqlState(error) === IN_FAILED_TRANSACTION) throw abortedTransaction(label);
        if (sqlState(error) === LOCK_NOT_AVAILABLE) {
          if (attempt < this.options.lockRetries) {
            await sleep(this.options.retryDelayMs * 2 ** attempt);
            continue;
          }
          throw await this.lockTimeoutError(error, 'It was rolled back each time: nothing was changed, the version is as before, not dirty.');
        }
        const interrupted = this.interrupted(error);
        if (interrupted !== error) throw interrupted;
        throw serverStateError(error) ?? error;
      }
    }
  }

  /**
   * A statement that failed inside the migration (its error caught by the migration's own code)
   * aborts the transaction, and COMMIT would then roll back without an error.
   */
  private assertTransactionAlive(label: string): void {
    if (this.client.getTransactionStatus() === 'T') return;
    throw abortedTransaction(label);
  }

  async autocommit<T>(fn: (session: DriverSession<PgContext>) => Promise<T>, label: string): Promise<T> {
    await loadParser();
    this.doneOutside = 0;
    this.invalidBefore = new Set((await invalidIndexes(this.client)).map((i) => i.name));
    await this.setTimeouts(false);
    try {
      const result = await fn(migrationSession(this.sessionHost(), false, label));
      if (this.client.getTransactionStatus() !== 'I') {
        throw new DataError('migration-left-transaction-open', `${label} began a transaction and did not end it.`, { hint: 'End every BEGIN in the migration with COMMIT.' });
      }
      return result;
    } catch (error) {
      // A file's own BEGIN … COMMIT that failed half-way leaves its transaction open: end it.
      if (this.client.getTransactionStatus() !== 'I') await this.rollback();
      const interrupted = this.interrupted(error);
      if (interrupted !== error) throw interrupted;
      throw serverStateError(error) ?? error;
    } finally {
      // Also undoes setTimeouts(false): the URL's own lock_timeout, if any, comes back.
      await resetSession(this.client).catch(() => undefined);
    }
  }

  private lockTimeoutError(error: unknown, dataState: string): Promise<BusyError> {
    return lockTimeoutError(this.client, this.current, { tries: this.options.lockRetries + 1, lockTimeoutMs: this.options.lockTimeoutMs }, error, dataState);
  }

  /** A failed CREATE INDEX CONCURRENTLY leaves an INVALID index: name it and how to get rid of it. */
  async inspectFailure(error: unknown): Promise<FailureReport | undefined> {
    const fresh = (await invalidIndexes(this.client)).filter((i) => !this.invalidBefore.has(i.name));
    if (fresh.length > 0) {
      const names = fresh.map((i) => `${i.name} on ${i.table}`).join(', ');
      return {
        message: `It left ${fresh.length === 1 ? 'an INVALID index' : 'INVALID indexes'} behind: ${names} (not used by queries, but still updated by every write).`,
        hint: `Drop ${fresh.length === 1 ? 'it' : 'them'} (${fresh.map((i) => `DROP INDEX CONCURRENTLY ${i.name};`).join(' ')}), fix the cause${sqlState(error) === '23505' ? ' (the duplicate rows the error names)' : ''}, then`,
      };
    }
    if (error instanceof BusyError && error.code === 'lock-timeout' && this.doneOutside === 0) {
      return { message: '', hint: error.hint ?? '', untouched: true };
    }
    return undefined;
  }

  /** The parser's rules before `up`, on what the catalog says of the tables the pending files name (the replay on a scratch database is `dbshift lint`'s). */
  async lint(set: MigrationSet<PgContext>, only?: ReadonlySet<number>): Promise<LintFinding[]> {
    // The lint's modules (with the document rules they share with SQLite's, and better-sqlite3
    // under those) load only for a run that lints: not for version, history or status.
    const { lintPgPending, lintPgRules, pendingRelations } = await import('./lint.js');
    if (!only) return lintPgRules(set);
    return lintPgPending(set, only, await readLiveTables(this.client, await pendingRelations(set, only)));
  }

  /** The files of the steps about to run, parsed in one call (a run that applies one migration of 1,000 parses one file). */
  async prepareSteps(set: MigrationSet<PgContext>, steps: readonly MigrationStep[]): Promise<void> {
    const byVersion = new Map(set.migrations.map((m) => [m.version, m]));
    await loadParser();
    preparsePgFiles(steps.map((s) => byVersion.get(s.version)?.[s.direction]?.sql).filter((sql): sql is string => sql !== undefined));
  }

  // ---- backup ----------------------------------------------------------------

  async backup(dir: string, now: Date, options: { signal?: AbortSignal; onStart?(): void } = {}): Promise<BackupRef> {
    options.onStart?.();
    return dumpDatabase(this.target, this.database, this.serverVersionNum, dir, now, options.signal);
  }

  raisedByDatabase(error: unknown): boolean {
    return error instanceof pg.DatabaseError;
  }

  async close(): Promise<void> {
    try {
      await this.unlock();
    } catch {
      // Closing the lock's session releases a session-level advisory lock anyway.
    }
    await this.client.end().catch(() => undefined);
  }
}

function abortedTransaction(label: string): DataError {
  return new DataError('migration-ended-transaction', `${label}: a statement failed inside the migration's transaction (the error was caught), so PostgreSQL aborted it.`, {
    hint: 'Let errors in the migration propagate, or use SAVEPOINT / ROLLBACK TO SAVEPOINT around a statement that may fail.',
  });
}

import type pg from 'pg';

// What a PostgreSQL code migration receives: below the driver, so that the lint (which the
// driver runs) and the loaders can name it without importing the driver.

/** What a PostgreSQL code migration's up/down/verify receive. */
export interface PgContext {
  /** One statement with $1… parameters, inside the migration's transaction (if it has one). */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Run a script: one statement at a time, the file's own BEGIN/COMMIT folded into the migration's transaction. */
  exec(sql: string): Promise<void>;
}

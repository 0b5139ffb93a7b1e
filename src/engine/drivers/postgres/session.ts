import type pg from 'pg';
import { connectClient } from './connection.js';

// Why one migration never inherits another's session state on PostgreSQL: every migration of a
// run shares the work session (a connection per migration costs ~20 ms before SCRAM, 1,000
// migrations 20 s), so after each one the session is put back to how it connected: by DISCARD
// ALL's parts sent before the migration's COMMIT, in the same text (no round trip of its own),
// or by DISCARD ALL after a migration that failed or did not end that way. Either way: RESET ALL (SET, SET ROLE, search_path, timeouts: back to the
// values the URL's options and application_name gave at connect), SET SESSION AUTHORIZATION
// DEFAULT, temp objects, prepared statements, WITH HOLD cursors, LISTEN, session advisory locks.
// DISCARD ALL also releases every advisory lock of the session, so the migration lock lives on
// a second session of its own, which runs nothing else (and so no migration can unlock it either).

/**
 * DISCARD ALL's parts, as PostgreSQL documents it, which may run inside a transaction (DISCARD
 * ALL itself may not): sent at the end of a migration's transaction, before its COMMIT, they take
 * effect with it and save the round trip of a DISCARD ALL after it.
 */
export const RESET_SESSION_IN_TRANSACTION = 'CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; DEALLOCATE ALL; UNLISTEN *; SELECT pg_catalog.pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP; DISCARD SEQUENCES';

/** Put the work session back to its state at connect. Outside a transaction only (DISCARD ALL refuses one). */
export async function resetSession(client: pg.Client): Promise<void> {
  if (client.getTransactionStatus() !== 'I') await client.query('ROLLBACK');
  await client.query('DISCARD ALL');
}

/** The session that holds the migration lock; `lost` turns true when the server ends it (a restart, pg_terminate_backend). */
export interface LockSession {
  client: pg.Client;
  pid: number;
  readonly lost: boolean;
}

export async function openLockSession(connectionString: string, display: string): Promise<LockSession> {
  const client = await connectClient(connectionString, display);
  const state = { lost: false };
  client.on('error', () => (state.lost = true));
  client.on('end', () => (state.lost = true));
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return {
    client,
    pid: rows[0]!.pid,
    get lost() {
      return state.lost;
    },
  };
}

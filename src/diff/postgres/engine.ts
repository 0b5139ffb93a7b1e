import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import type pg from 'pg';
import { connectClient, resolvePgTarget, type PgTarget } from '../../engine/drivers/postgres/connection.js';
import type { PgContext } from '../../engine/drivers/postgres/driver.js';
import { loadPgMigrationDir } from '../../engine/drivers/postgres/load.js';
import { isOwnTransactionControl, loadParser, quoteIdent, splitPgStatements } from '../../engine/drivers/postgres/statements.js';
import { ConfigError, DataError, InputError, UsageError } from '../../errors.js';
import type { DiffEngine, DiffSources, Replayed } from '../engine.js';
import type { Schema } from '../model.js';
import type { GeneratedMigration } from '../render.js';
import { sqlFilesOf } from '../sqlite/engine.js';
import { introspectPostgres } from './introspect.js';
import { postgresPlanner } from './plan.js';

// PostgreSQL's side of diff. Every schema that is built (the migrations replayed, a desired
// .sql applied, the replay of the generated migrations) is built in a scratch database created
// on the given server and dropped afterwards, the way lint replays; a live database (--from, or
// a postgres:// --to) is only read, its catalog. For --from, the replay's scratch copy is the
// live schema as pg_dump --schema-only prints it: the schema, never the rows.

const isPg = (value: string | undefined) => value !== undefined && /^postgres(ql)?:\/\//i.test(value);

interface Scratch {
  name: string;
  client: pg.Client;
}

async function runStatements(client: pg.Client, sql: string, transactional: boolean, what: string, onError: (message: string) => Error): Promise<void> {
  const statements = splitPgStatements(sql);
  try {
    if (transactional) await client.query('BEGIN');
    for (const statement of statements) {
      if (transactional && isOwnTransactionControl(statement)) continue;
      await client.query(statement.text);
    }
    if (transactional) await client.query('COMMIT');
  } catch (error) {
    if (transactional) await client.query('ROLLBACK').catch(() => undefined);
    throw onError(`${what}: ${(error as Error).message}`);
  }
}

export async function openPostgresDiff(sources: DiffSources, settings: { server: string | undefined; env: Record<string, string | undefined> }): Promise<DiffEngine> {
  const serverUrl = settings.server ?? (isPg(sources.to) ? sources.to : isPg(sources.from) ? sources.from : undefined);
  if (!serverUrl) {
    throw new UsageError('no-server', 'diff on PostgreSQL builds schemas in scratch databases and needs a server for them.', { hint: 'Pass --database postgres://user@host/db (a role that may CREATE DATABASE), or a postgres:// --to.', dataState: 'Nothing was changed.' });
  }
  await loadParser();
  const server = resolvePgTarget(serverUrl, settings.env);
  const admin = await connectClient(server.clientUrl, server.display);
  const scratches: Scratch[] = [];
  const live: pg.Client[] = [];
  const close = async () => {
    for (const s of scratches.splice(0)) await s.client.end().catch(() => undefined);
    for (const c of live.splice(0)) await c.end().catch(() => undefined);
    for (const name of dropped.splice(0)) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  };
  const dropped: string[] = [];
  const scratch = async (): Promise<Scratch> => {
    const name = `dbshift_diff_${crypto.randomBytes(6).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    dropped.push(name);
    const url = new URL(server.clientUrl);
    url.pathname = `/${name}`;
    const client = await connectClient(url.toString(), server.display);
    const made = { name, client };
    scratches.push(made);
    return made;
  };
  const connectLive = async (value: string): Promise<pg.Client> => {
    const target = resolvePgTarget(value, settings.env);
    const client = await connectClient(target.clientUrl, target.display);
    live.push(client);
    return client;
  };
  try {
    const serverVersionNum = Number((await admin.query<{ v: string }>('SHOW server_version_num')).rows[0]!.v);

    /** The migrations of DIR, replayed on a new scratch database: CURRENT, or the copy the proof runs on. */
    const replayMigrations = async (): Promise<Scratch> => {
      const set = await loadPgMigrationDir(sources.dir, serverVersionNum);
      const target = await scratch();
      for (const migration of [...set.migrations].sort((a, b) => a.version - b.version)) {
        const up = migration.up;
        if (!up) continue;
        const label = migration.files[0] ?? migration.name;
        const failed = (message: string) => new DataError('replay-failed', `Replaying ${message}`, { hint: 'Run `dbshift lint` and fix the migration; diff compares with what the migrations build.', dataState: 'Nothing was changed.' });
        if (up.sql !== undefined) {
          await runStatements(target.client, up.sql, up.transactional, label, failed);
          continue;
        }
        await up.load?.();
        const ctx: PgContext = {
          query: async (sql, params) => (await target.client.query(sql, params)).rows as never,
          exec: async (sql) => {
            for (const s of splitPgStatements(sql)) await target.client.query(s.text);
          },
        };
        try {
          if (up.transactional) await target.client.query('BEGIN');
          await up.run(ctx);
          if (up.transactional) await target.client.query('COMMIT');
        } catch (error) {
          if (up.transactional) await target.client.query('ROLLBACK').catch(() => undefined);
          throw failed(`${label}: ${(error as Error).message}`);
        }
      }
      return target;
    };

    /** The live database's schema (pg_dump --schema-only) on a new scratch database. */
    const copyLive = async (value: string): Promise<Scratch> => {
      const target = resolvePgTarget(value, settings.env);
      const dump = spawnSync('pg_dump', ['--schema-only', '--no-owner', '--no-privileges', '--no-password', `--dbname=${target.libpqUrl}`], { encoding: 'utf8', env: { ...process.env, ...(target.password ? { PGPASSWORD: target.password } : {}) }, maxBuffer: 256 * 1024 * 1024 });
      if (dump.error || dump.status !== 0) {
        throw new ConfigError('no-pg-dump', `pg_dump could not print the schema of ${target.display}: ${dump.error?.message ?? dump.stderr.trim()}`, { hint: 'Put pg_dump (at least the server\'s major version) on PATH.', dataState: 'Nothing was changed.' });
      }
      const copy = await scratch();
      // The dump sets search_path to '' for its session: a connection of its own.
      const url = new URL(server.clientUrl);
      url.pathname = `/${copy.name}`;
      const loader = await connectClient(url.toString(), server.display);
      try {
        // psql meta-commands (pg_dump 15.14+ wraps the dump in \restrict … \unrestrict) are not SQL.
        await loader.query(dump.stdout.replace(/^\\.*$/gm, ''));
      } finally {
        await loader.end().catch(() => undefined);
      }
      return copy;
    };

    const introspect = (client: pg.Client): Promise<Schema> => introspectPostgres(client);

    let currentClient: pg.Client;
    // The scratch the migrations were replayed on is diff's own: once CURRENT is read from it,
    // the proof replays there instead of building it a second time.
    let replayedCurrent: Scratch | undefined;
    if (sources.from !== undefined) {
      if (!isPg(sources.from)) throw new UsageError('mixed-dialects', `--from ${sources.from} is not a postgres:// URL; diff compares PostgreSQL with PostgreSQL.`);
      currentClient = await connectLive(sources.from);
    } else {
      replayedCurrent = await replayMigrations();
      currentClient = replayedCurrent.client;
    }

    let desiredClient: pg.Client;
    if (isPg(sources.to)) desiredClient = await connectLive(sources.to);
    else {
      const files = sqlFilesOf(sources.to);
      if (!files) throw new InputError('bad-desired-schema', `${sources.to} is not a .sql file, a directory of them or a postgres:// URL.`, { dataState: 'Nothing was changed.' });
      const target = await scratch();
      for (const file of files) {
        await runStatements(target.client, fs.readFileSync(file, 'utf8'), false, file, (message) => new InputError('bad-desired-schema', `PostgreSQL rejects the desired schema ${message}`, { hint: 'Correct the file; it must build the schema on an empty database.', dataState: 'Nothing was changed.' }));
      }
      desiredClient = target.client;
    }

    return {
      dialect: 'postgres',
      planner: postgresPlanner,
      current: () => introspect(currentClient),
      desired: () => introspect(desiredClient),
      async replay(migrations: GeneratedMigration[]): Promise<Replayed> {
        const copy = replayedCurrent ?? (await copyLive(sources.from!));
        replayedCurrent = undefined;
        const notProven = (message: string) =>
          new DataError('diff-not-proven', `The generated ${message}, replayed on a scratch copy of the current schema.`, { hint: 'This is a limit of dbshift diff: write this change by hand (`dbshift create NAME`), and report the case.', dataState: 'Nothing was written.' });
        for (const m of migrations) await runStatements(copy.client, m.up, m.transactional, `${m.label}.up.sql fails`, notProven);
        const afterUp = await introspect(copy.client);
        for (const m of [...migrations].reverse()) await runStatements(copy.client, m.down, m.transactional, `${m.label}.down.sql fails`, notProven);
        return { afterUp, afterDown: await introspect(copy.client) };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export type { PgTarget };

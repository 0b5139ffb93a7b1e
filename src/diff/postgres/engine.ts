import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import type pg from 'pg';
import { connectClient, resolvePgTarget, type PgTarget } from '../../engine/drivers/postgres/connection.js';
import type { PgContext } from '../../engine/drivers/postgres/context.js';
import { loadPgMigrationDir, preparseMigrations } from '../../engine/drivers/postgres/load.js';
import { isOwnTransactionControl, loadParser, quoteIdent, splitPgStatements } from '../../engine/drivers/postgres/statements.js';
import { ConfigError, DataError, InputError, UsageError } from '../../errors.js';
import { importOptional } from '../../optional.js';
import type { DiffEngine, DiffSources, Replayed } from '../engine.js';
import type { Schema } from '../model.js';
import type { GeneratedMigration } from '../render.js';
import { sqlFilesOf } from '../sqlite/engine.js';
import { introspectPostgres } from './introspect.js';
import { postgresPlanner } from './plan.js';

// PostgreSQL's side of diff. Every schema that is built (the migrations replayed, a desired
// .sql applied, the replay of the generated migrations) is built in a scratch database: on the
// --database server (created and dropped again, the way lint replays), or without one in
// PostgreSQL embedded in dbshift (PGlite). A live database (--from, or a postgres:// --to) is
// only read, its catalog; for --from, the proof's scratch copy is its schema as pg_dump
// --schema-only prints it, never its rows.

const isPg = (value: string | undefined) => value !== undefined && /^postgres(ql)?:\/\//i.test(value);

/** What diff asks of a session: node-postgres' Client and PGlite both answer it. */
interface Session {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
  /** PGlite: a script of many statements (its query() takes one). */
  exec?(sql: string): Promise<unknown>;
}

/** A script of many statements: node-postgres sends it as one simple query, PGlite through exec(). */
async function runScript(client: Session, sql: string): Promise<void> {
  if (client.exec) await client.exec(sql);
  else await client.query(sql);
}

interface Scratch {
  client: Session;
}

/** Where scratch databases come from: the --database server, or PostgreSQL embedded in dbshift (PGlite). */
interface ScratchHost {
  serverVersionNum: number;
  create(): Promise<Scratch>;
  close(): Promise<void>;
}

async function serverHost(server: PgTarget): Promise<ScratchHost> {
  const admin = await connectClient(server.clientUrl, server.display);
  const made: Array<{ name: string; client: pg.Client }> = [];
  try {
    const serverVersionNum = Number((await admin.query<{ v: string }>('SHOW server_version_num')).rows[0]!.v);
    return {
      serverVersionNum,
      async create() {
        const name = `dbshift_diff_${crypto.randomBytes(6).toString('hex')}`;
        await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
        const url = new URL(server.clientUrl);
        url.pathname = `/${name}`;
        const entry = { name, client: undefined as unknown as pg.Client };
        made.push(entry);
        entry.client = await connectClient(url.toString(), server.display);
        return { client: entry.client };
      },
      async close() {
        for (const { name, client } of made.splice(0)) {
          await client?.end().catch(() => undefined);
          await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch(() => undefined);
        }
        await admin.end().catch(() => undefined);
      },
    };
  } catch (error) {
    await admin.end().catch(() => undefined);
    throw error;
  }
}

/** Without a server: each scratch database is a PGlite instance in this process (a few seconds to start). */
async function embeddedHost(): Promise<ScratchHost> {
  const { PGlite } = await importOptional('@electric-sql/pglite', () => import('@electric-sql/pglite'));
  const made: Array<{ close(): Promise<void> }> = [];
  const create = async (): Promise<Scratch> => {
    const db = await PGlite.create();
    made.push(db);
    return { client: db as unknown as Session };
  };
  const first = await create();
  const serverVersionNum = Number((await first.client.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]!.server_version_num);
  let spare: Scratch | undefined = first;
  return {
    serverVersionNum,
    create: async () => {
      const next = spare ?? (await create());
      spare = undefined;
      return next;
    },
    close: async () => {
      for (const db of made.splice(0)) await db.close().catch(() => undefined);
    },
  };
}

async function runStatements(client: Session, sql: string, transactional: boolean, what: string, onError: (message: string) => Error): Promise<void> {
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
  await loadParser();
  // Scratch databases go only where the operator said (--database); never on the server of a
  // live --from or --to, which may be production. Without --database: PostgreSQL embedded.
  const host = settings.server ? await serverHost(resolvePgTarget(settings.server, settings.env)) : await embeddedHost();
  const live: pg.Client[] = [];
  const close = async () => {
    for (const c of live.splice(0)) await c.end().catch(() => undefined);
    await host.close();
  };
  const scratch = () => host.create();
  const connectLive = async (value: string): Promise<pg.Client> => {
    const target = resolvePgTarget(value, settings.env);
    const client = await connectClient(target.clientUrl, target.display);
    live.push(client);
    return client;
  };
  try {
    const { serverVersionNum } = host;

    /** The migrations of DIR, replayed on a new scratch database: CURRENT, or the copy the proof runs on. */
    const replayMigrations = async (): Promise<Scratch> => {
      const target = await scratch();
      // No migrations yet: CURRENT is the empty schema, and the first migration creates everything.
      if (!fs.existsSync(sources.dir)) return target;
      const set = await loadPgMigrationDir(sources.dir, serverVersionNum);
      await preparseMigrations(set.migrations, ['up']);
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
      // psql meta-commands (pg_dump 15.14+ wraps the dump in \restrict … \unrestrict) are not SQL;
      // the dump's session settings (search_path '') are reset before anything else runs there.
      await runScript(copy.client, dump.stdout.replace(/^\\.*$/gm, ''));
      await copy.client.query('RESET ALL');
      return copy;
    };

    const introspect = (client: Session): Promise<Schema> => introspectPostgres(client);

    let currentClient: Session;
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

    let desiredClient: Session;
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


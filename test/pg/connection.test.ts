import { describe, expect, it } from 'vitest';
import { maskUrl, resolvePgTarget } from '../../src/engine/drivers/postgres/connection.js';
import { PostgresDriver } from '../../src/engine/drivers/postgres/driver.js';
import { freshDatabase, urlFor } from '../support/pg.js';

// Where the database is: URL, PG* variables, libpq parameters; the password never printed.

describe('PostgreSQL URLs', () => {
  it('masks the password in the authority and in a password= parameter', () => {
    expect(maskUrl('postgres://app:s3cr%40t@db:5432/codeactions?sslmode=disable')).toBe('postgres://app:****@db:5432/codeactions?sslmode=disable');
    expect(maskUrl('postgresql://app@db/x?password=hunter2&sslmode=require')).toBe('postgresql://app@db/x?password=****&sslmode=require');
  });

  it('completes a URL from PG* variables, keeps libpq parameters, drops x- options from what the client sees', () => {
    const target = resolvePgTarget('postgres:///codeactions?sslmode=require&options=-c%20search_path%3Dapp&x-migrations-table=versions', {
      PGHOST: 'db.internal',
      PGPORT: '6543',
      PGUSER: 'migrator',
      PGPASSWORD: 'pw-from-env',
    });
    expect(target.display).toBe('postgres://migrator:****@db.internal:6543/codeactions?sslmode=require&options=-c+search_path%3Dapp');
    expect(target.libpqUrl).toBe('postgres://migrator@db.internal:6543/codeactions?sslmode=require&options=-c+search_path%3Dapp');
    expect(target.clientUrl).toContain('migrator:pw-from-env@db.internal:6543/codeactions?');
    expect(target.clientUrl).toContain('uselibpqcompat=true');
    expect(target.password).toBe('pw-from-env');
    expect(target.migrationsTable).toEqual({ table: 'versions' });
  });

  it('works from PG* variables alone, a socket directory as host', () => {
    const target = resolvePgTarget(undefined, { PGHOST: '/var/run/postgresql', PGPORT: '5433', PGDATABASE: 'app', PGUSER: 'me' });
    expect(target.libpqUrl).toBe('postgres:///app?host=%2Fvar%2Frun%2Fpostgresql&user=me&port=5433');
  });

  it('refuses no database at all (64) and a URL of another scheme (66)', () => {
    expect(() => resolvePgTarget(undefined, {})).toThrow(expect.objectContaining({ exitCode: 64 }));
    expect(() => resolvePgTarget('mysql://x/y', {})).toThrow(expect.objectContaining({ exitCode: 66 }));
  });

  it('connection failures say what is wrong with exit codes: wrong password 78, missing database 66, nothing listening 66; no password in the message', async () => {
    const db = await freshDatabase();
    const wrong = new URL(db.url);
    wrong.password = 'not-the-password';
    await expect(PostgresDriver.open(resolvePgTarget(wrong.toString(), {}))).rejects.toSatisfy((e: { exitCode: number; message: string }) => e.exitCode === 78 && e.message.includes(':****@') && !e.message.includes('not-the-password'));
    await expect(PostgresDriver.open(resolvePgTarget(urlFor('no_such_db'), {}))).rejects.toMatchObject({ exitCode: 66, code: 'missing-database' });
    await expect(PostgresDriver.open(resolvePgTarget('postgres://u:pw@127.0.0.1:1/x', {}))).rejects.toMatchObject({ exitCode: 66, code: 'cannot-connect' });
  });
});

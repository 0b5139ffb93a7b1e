import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshift, json } from '../support/cli.js';
import { listDir, query, sha256, workspace } from '../support/fixtures.js';
import { project, THREE } from '../support/project.js';

// Issue 10.2 and issue 9 item 8: the database argument is parsed in one place. URLs never
// become paths, DATABASE_URL is honoured after DATABASE, and an empty value is a usage error.
// postgres:// URLs go to the PostgreSQL driver (issue 12).

interface ResultJson {
  ok: boolean;
  database?: string;
  error?: { code: string; exitCode: number; message: string };
}

describe('database URLs', () => {
  it('postgres:// goes to the PostgreSQL driver: a server that is not there is 66, nothing created, the password never printed', () => {
    const p = project(THREE);
    const before = listDir(p.dir);
    // Port 1 on loopback: nothing listens there (the driver itself is tested against a real server in test/pg/).
    for (const url of ['postgres://127.0.0.1:1/codeactions?sslmode=disable', 'postgresql://app:s3cr3t-pw@127.0.0.1:1/app']) {
      const run = p.run('up', '--create', '--database', url, '--json');
      expect(run.code, run.stderr).toBe(66);
      expect(json<ResultJson>(run).error).toMatchObject({ code: 'cannot-connect', message: expect.stringMatching(/^Cannot connect to postgres(ql)?:\/\//) });
      expect(run.stdout + run.stderr).not.toContain('s3cr3t-pw');
    }
    const viaEnv = dbshift(['up', '--create'], { cwd: p.dir, env: { ...p.env, DATABASE: '', DATABASE_URL: 'postgres://app:s3cr3t-pw@127.0.0.1:1/app' } });
    expect(viaEnv.code).toBe(66);
    expect(viaEnv.stderr).toMatch(/Cannot connect to postgres:\/\/app:\*\*\*\*@127\.0\.0\.1:1\/app/);
    expect(listDir(p.dir)).toEqual(before);
  });

  it('sqlite://, sqlite3://, sqlite:/// and file: name the SQLite file, never a directory called sqlite3:', () => {
    const p = project(THREE);
    expect(p.run('up', '1', '--create', '--no-backup', '--database', 'sqlite3://one.db').code).toBe(0);
    expect(p.run('up', '1', '--create', '--no-backup', '--database', 'sqlite://two.db').code).toBe(0);
    expect(p.run('up', '1', '--create', '--no-backup', '--database', 'file:three.db').code).toBe(0);
    const absolute = path.join(p.dir, 'sub', 'four.db');
    fs.mkdirSync(path.dirname(absolute));
    expect(p.run('up', '1', '--create', '--no-backup', '--database', `sqlite3://${absolute}`).code).toBe(0);
    expect(p.run('up', '--no-backup', '--database', `file://${absolute}`).code).toBe(0);
    for (const name of ['one.db', 'two.db', 'three.db']) expect(query(path.join(p.dir, name), 'SELECT version FROM schema_migrations')).toEqual([{ version: 1 }]);
    expect(query(absolute, 'SELECT version FROM schema_migrations')).toEqual([{ version: 3 }]);
    expect(listDir(p.dir).filter((n) => n.includes(':'))).toEqual([]);
  });

  it('other schemes and URL parameters are refused (64), not ignored', () => {
    const p = project(THREE);
    const mysql = p.run('up', '--create', '--database', 'mysql://localhost/app');
    expect(mysql.code).toBe(64);
    const params = p.run('up', '--create', '--database', 'sqlite3://app.db?x-migrations-table=other');
    expect(params.code).toBe(64);
    expect(params.stderr).toMatch(/x-migrations-table/);
    expect(listDir(p.dir)).toEqual(['migrations']);
  });

  it('precedence: --database > DATABASE > DATABASE_URL > default', () => {
    const p = project(THREE);
    const env = { MIGRATIONS_DIR: 'migrations', BACKUP_DIR: 'backups' };
    const at = (name: string) => query(path.join(p.dir, name), 'SELECT version FROM schema_migrations')[0];
    expect(dbshift(['up', '1', '--create', '--no-backup'], { cwd: p.dir, env: { ...env, DATABASE_URL: 'sqlite://url.db' } }).code).toBe(0);
    expect(at('url.db')).toEqual({ version: 1 });
    expect(dbshift(['up', '1', '--create', '--no-backup'], { cwd: p.dir, env: { ...env, DATABASE: 'plain.db', DATABASE_URL: 'sqlite://url.db' } }).code).toBe(0);
    expect(at('plain.db')).toEqual({ version: 1 });
    expect(at('url.db')).toEqual({ version: 1 });
    expect(dbshift(['up', '1', '--create', '--no-backup', '--database', 'flag.db'], { cwd: p.dir, env: { ...env, DATABASE: 'plain.db', DATABASE_URL: 'sqlite://url.db' } }).code).toBe(0);
    expect(at('flag.db')).toEqual({ version: 1 });
    expect(at('plain.db')).toEqual({ version: 1 });
    const version = dbshift(['version', '--json'], { cwd: p.dir, env: { ...env, DATABASE_URL: 'sqlite://url.db' } });
    expect(json<ResultJson>(version).database).toBe(path.join(p.dir, 'url.db'));
  });
});

describe('empty values are usage errors (64), never the default', () => {
  it('down --all --database \'\' and --dir \'\' leave the default database alone', () => {
    const p = project(THREE);
    const target = path.join(p.dir, 'instance', 'health_records.db');
    fs.mkdirSync(path.dirname(target));
    const env = { MIGRATIONS_DIR: 'migrations', BACKUP_DIR: 'backups' };
    expect(dbshift(['up', '--create', '--no-backup', '--database', target], { cwd: p.dir, env }).code).toBe(0);
    const before = sha256(target);
    for (const args of [['down', '--all', '--database', ''], ['down', '--all', '--dir', ''], ['version', '--database', ''], ['create', 'x', '--dir', '']]) {
      const run = dbshift(args, { cwd: p.dir, env });
      expect(run.code, args.join(' ')).toBe(64);
      expect(run.stderr).toMatch(/is empty/);
    }
    expect(sha256(target)).toBe(before);
    expect(listDir(p.migrations)).toEqual(Object.keys(THREE).sort());
  });

  it('migrate/plan/backup --source \'\', restore --to \'\', verify \'\' refuse before any work', () => {
    const ws = workspace();
    const before = listDir(ws.dir);
    for (const args of [['migrate', '--source', ''], ['plan', '--source', ''], ['backup', '--source', ''], ['restore', '--to', ''], ['restore', ''], ['verify', ''], ['verify', '--against', '']]) {
      const run = dbshift(args, { cwd: ws.dir, env: ws.env });
      expect(run.code, args.join(' ')).toBe(64);
    }
    expect(listDir(ws.dir)).toEqual(before);
    expect(listDir(ws.instance)).toEqual(['health_records_old.db']);
  });

  it('DBSHIFT_BUSY_TIMEOUT_MS above 2^31-1 is a configuration error (78), not a bug', () => {
    const p = project(THREE);
    fs.writeFileSync(p.db, '');
    for (const value of ['2147483648', '99999999999999999999', '1e3']) {
      const run = dbshift(['up'], { cwd: p.dir, env: { ...p.env, DBSHIFT_BUSY_TIMEOUT_MS: value } });
      expect(run.code, value).toBe(78);
      expect(run.stderr).toMatch(/DBSHIFT_BUSY_TIMEOUT_MS/);
    }
    expect(dbshift(['up', '--no-backup'], { cwd: p.dir, env: { ...p.env, DBSHIFT_BUSY_TIMEOUT_MS: '2147483647' } }).code).toBe(0);
  });
});

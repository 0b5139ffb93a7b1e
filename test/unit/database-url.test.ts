import { describe, expect, it } from 'vitest';
import { parseDatabaseLocation, parseDirectoryArgument } from '../../src/database-url.js';

const cwd = '/srv/app';
const parse = (value: string) => parseDatabaseLocation(value, cwd, '--database');

describe('parseDatabaseLocation', () => {
  it('SQLite: plain paths and the URL forms golang-migrate, dbmate and SQLite use', () => {
    expect(parse('app.db')).toEqual({ kind: 'sqlite', path: '/srv/app/app.db' });
    expect(parse('/data/live.db')).toEqual({ kind: 'sqlite', path: '/data/live.db' });
    expect(parse('my:odd.db')).toEqual({ kind: 'sqlite', path: '/srv/app/my:odd.db' });
    expect(parse('sqlite3://app.db')).toEqual({ kind: 'sqlite', path: '/srv/app/app.db' });
    expect(parse('sqlite3:///data/app.db')).toEqual({ kind: 'sqlite', path: '/data/app.db' });
    expect(parse('sqlite://db/app.sqlite3')).toEqual({ kind: 'sqlite', path: '/srv/app/db/app.sqlite3' });
    expect(parse('sqlite:db/app.sqlite3')).toEqual({ kind: 'sqlite', path: '/srv/app/db/app.sqlite3' });
    expect(parse('sqlite:/data/app.db')).toEqual({ kind: 'sqlite', path: '/data/app.db' });
    expect(parse('file:app.db')).toEqual({ kind: 'sqlite', path: '/srv/app/app.db' });
    expect(parse('file:///data/my%20app.db')).toEqual({ kind: 'sqlite', path: '/data/my app.db' });
  });

  it('PostgreSQL is typed for a driver, with the password hidden for messages', () => {
    expect(parse('postgres://u:pw@h:5432/db?sslmode=disable')).toEqual({ kind: 'postgres', url: 'postgres://u:pw@h:5432/db?sslmode=disable', display: 'postgres://u:***@h:5432/db?sslmode=disable' });
    expect(parse('postgresql://h/db')).toMatchObject({ kind: 'postgres' });
  });

  it('refuses empty values, other schemes, parameters and URLs that name no file (64)', () => {
    for (const bad of ['', '  ', 'mysql://h/db', 'sqlite3://app.db?x-no-tx-wrap=true', 'file:app.db?mode=ro', 'sqlite3://', 'file://remote-host/x.db']) {
      expect(() => parse(bad), bad).toThrow(expect.objectContaining({ exitCode: 64 }));
    }
  });
});

describe('parseDirectoryArgument', () => {
  it('a path or golang-migrate\'s file:// source; empty is refused', () => {
    expect(parseDirectoryArgument('migrations', cwd, '--dir')).toBe('/srv/app/migrations');
    expect(parseDirectoryArgument('file://migrations', cwd, '--dir')).toBe('/srv/app/migrations');
    expect(parseDirectoryArgument('file:///abs/m', cwd, '--dir')).toBe('/abs/m');
    expect(() => parseDirectoryArgument('', cwd, '--dir')).toThrow(expect.objectContaining({ exitCode: 64 }));
  });
});

import { describe, expect, it } from 'vitest';
import { normalizeArgv } from '../../src/cli/argv.js';

describe('normalizeArgv: golang-migrate spellings as aliases', () => {
  it('moves options given before the command behind it, in dbshift spelling', () => {
    expect(normalizeArgv(['-path', './migrations', '-database', 'sqlite3://app.db', 'up'])).toEqual(['up', '--dir', './migrations', '--database', 'sqlite3://app.db']);
    expect(normalizeArgv(['-source', 'file://./migrations', '-database=app.db', 'down', '1'])).toEqual(['down', '--dir', './migrations', '--database', 'app.db', '1']);
    expect(normalizeArgv(['-source=file:///srv/app/migrations', 'version'])).toEqual(['version', '--dir', '/srv/app/migrations']);
  });

  it('rewrites them after the command too, keeping positions and everything else', () => {
    expect(normalizeArgv(['create', '-ext', 'sql', '-dir', './migrations', '-seq', 'add_table'])).toEqual(['create', '--ext', 'sql', '--dir', './migrations', '--seq', 'add_table']);
    expect(normalizeArgv(['create', '-ext', '.sql', '-digits', '4', '-seq', 'x'])).toEqual(['create', '--ext', 'sql', '--digits', '4', '--seq', 'x']);
    expect(normalizeArgv(['goto', '3', '-path=m', '--json'])).toEqual(['goto', '3', '--dir', 'm', '--json']);
    expect(normalizeArgv(['-path', 'm', 'down', '-all'])).toEqual(['down', '--dir', 'm', '--all']);
  });

  it('leaves dbshift\'s own spellings and values alone', () => {
    const own = ['migrate', '--source', 'instance/health_records_old.db', '--strict'];
    expect(normalizeArgv(own)).toEqual(own);
    expect(normalizeArgv(['up', '--dir', 'm', '--database', 'app.db', '2'])).toEqual(['up', '--dir', 'm', '--database', 'app.db', '2']);
    expect(normalizeArgv(['--version'])).toEqual(['--version']);
    expect(normalizeArgv(['create', '--', '-path'])).toEqual(['create', '--', '-path']);
  });

  it('refuses what cannot mean a directory of migrations, and a missing value (64)', () => {
    expect(() => normalizeArgv(['-source', 'github://owner/repo', 'up'])).toThrow(/directory only/);
    expect(() => normalizeArgv(['up', '-path'])).toThrow(/needs a value/);
  });

  it('accepts -verbose and -prefetch N (dropped), -lock-timeout N as --wait N, -format/-tz; refuses the ambiguous --lock-timeout', () => {
    expect(normalizeArgv(['-verbose', '-prefetch', '10', '-lock-timeout', '15', '-path', 'm', 'up'])).toEqual(['up', '--wait', '15', '--dir', 'm']);
    expect(normalizeArgv(['create', '-format', 'unix', '-tz', 'UTC', 'x'])).toEqual(['create', '--format', 'unix', '--tz', 'UTC', 'x']);
    expect(normalizeArgv(['-version'])).toEqual(['--version']);
    expect(() => normalizeArgv(['up', '--lock-timeout', '5000'])).toThrow(/ambiguous/);
  });
});

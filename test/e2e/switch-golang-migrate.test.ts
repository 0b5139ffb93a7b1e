import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { json } from '../support/cli.js';
import { listDir, query } from '../support/fixtures.js';
import { project, THREE } from '../support/project.js';

// Issue 20.3: golang-migrate's whole command line, as its users' scripts and Makefiles type it.

describe('golang-migrate command lines', () => {
  it('-verbose, -prefetch N and -lock-timeout N (seconds to wait for the lock) are accepted; --lock-timeout is refused as ambiguous (64)', () => {
    const p = project(THREE);
    const up = p.run('-path', 'migrations', '-database', 'app.db', '-verbose', '-prefetch', '10', '-lock-timeout', '15', 'up', '--create', '--no-backup');
    expect(up.code, up.stderr).toBe(0);
    expect(p.run('-verbose', 'version').stdout).toMatch(/^3 \(notes\)/);
    const ambiguous = p.run('down', '1', '--lock-timeout', '5000');
    expect(ambiguous.code).toBe(64);
    expect(ambiguous.stderr).toMatch(/--lock-timeout is ambiguous: .*-lock-timeout N .*--pg-lock-timeout MS/);
    expect(p.run('version').stdout).toMatch(/^3 /);
    const version = p.run('-version');
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('drop refuses without -f when no one is at a terminal (64, nothing changed); drop -f drops every table after a backup', () => {
    const p = project(THREE);
    expect(p.run('up', '--create', '--no-backup').code).toBe(0);
    const refused = p.run('-database', 'app.db', 'drop');
    expect(refused.code).toBe(64);
    expect(refused.stderr).toMatch(/needs -f/);
    expect(query(p.db, `SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'`)).toEqual([{ n: 5 }]);
    const dropped = p.run('-database', 'app.db', 'drop', '-f', '--json');
    expect(dropped.code, dropped.stderr).toBe(0);
    const result = json<{ dropped: string[]; backup: { path: string } }>(dropped);
    expect(result.dropped).toEqual(['dbshift_history', 'notes', 'schema_migrations', 'tasks', 'users']);
    expect(fs.existsSync(result.backup.path)).toBe(true);
    expect(query(p.db, `SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'`)).toEqual([{ n: 0 }]);
    expect(p.run('version').stdout).toMatch(/^0/);
  });

  it('create without -seq follows the directory; -format and -tz write timestamp versions as golang-migrate does', () => {
    const p = project();
    expect(p.run('create', '-ext', 'sql', '-dir', 'migrations', '-seq', 'first').code).toBe(0);
    expect(p.run('create', '-ext', 'sql', '-dir', 'migrations', '-format', 'unix', 'second').code).toBe(0);
    // UTC+14: later than any other zone's clock, so above the unix version whatever the second.
    expect(p.run('create', '-ext', 'sql', '-dir', 'migrations', '-tz', 'Pacific/Kiritimati', 'third').code).toBe(0);
    expect(p.run('create', '-format', 'Jan 2', 'bad').code).toBe(64);
    expect(p.run('create', '-tz', 'Mars/Olympus', 'bad').code).toBe(64);
    const stems = [...new Set(listDir(p.migrations).map((f) => f.replace(/\..*$/, '')))];
    expect(stems).toEqual([expect.stringMatching(/^000001_first$/), expect.stringMatching(/^\d{10}_second$/), expect.stringMatching(/^\d{14}_third$/)]);

    // A directory of timestamp versions gets one more without -format; -seq would number it below them: refused.
    const t = project({ '20200101000000_old.up.sql': 'SELECT 1;' });
    expect(t.run('create', 'next').code).toBe(0);
    expect(listDir(t.migrations).filter((f) => f.endsWith('_next.up.sql'))).toEqual([expect.stringMatching(/^20\d{12}_next\.up\.sql$/)]);
  });

  it('revision -m keeps the letters of a name: Änderung is aenderung, café is cafe', () => {
    const p = project();
    expect(p.run('revision', '-m', 'Beschreibung der Änderung für Straße', '--seq').code).toBe(0);
    expect(p.run('revision', '-m', 'café crème').code).toBe(0);
    expect(listDir(p.migrations).filter((f) => f.endsWith('.up.sql'))).toEqual(['000001_beschreibung_der_aenderung_fuer_strasse.up.sql', '000002_cafe_creme.up.sql']);
  });
});

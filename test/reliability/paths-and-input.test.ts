import { spawnSync } from 'node:child_process';
import { dateStamp } from '../support/stamp.js';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { dbshift, json, ROOT } from '../support/cli.js';
import { listDir, sha256, workspace, type Workspace } from '../support/fixtures.js';

/** Names stamped in the next `seconds` seconds, as dbshift would stamp them. */
function upcoming(prefix: string, ext: string, seconds = 20): string[] {
  const now = Date.now();
  return Array.from({ length: seconds }, (_, i) => `${prefix}_${dateStamp(new Date(now + i * 1000))}${ext}`);
}

interface LinkCase {
  label: string;
  links: (ws: Workspace) => string[];
  command?: string[];
  prepare?: (ws: Workspace) => void;
}

const cases: LinkCase[] = [
  { label: 'the work file', links: (ws) => [path.join(ws.instance, '.health_records.db.work.dbshift-tmp')] },
  { label: 'the lock file', links: (ws) => [path.join(ws.instance, '.dbshift.lock')] },
  { label: 'the backup', links: (ws) => upcoming('health_records_backup', '.db').map((n) => path.join(ws.backups, n)) },
  { label: 'the checksum file', links: (ws) => upcoming('health_records_backup', '.db.sha256').map((n) => path.join(ws.backups, n)) },
  { label: 'the JSON record', links: (ws) => upcoming('health_records_migration', '.json').map((n) => path.join(ws.backups, n)) },
  {
    label: 'the replaced file',
    links: (ws) => upcoming('health_records_replaced', '.db').map((n) => path.join(ws.backups, n)),
    // An identical copy of the input stands at the target, as in the operator guide's flow.
    prepare: (ws) => fs.copyFileSync(ws.old, ws.target),
  },
  {
    label: 'the restore temp file',
    links: (ws) => [path.join(ws.instance, '.health_records.db.restore.dbshift-tmp')],
    prepare: (ws) => {
      expect(dbshift(['backup'], { cwd: ws.dir, env: ws.env }).code).toBe(0);
    },
    command: ['restore'],
  },
];

describe('a symlink where an output file would go', () => {
  it.each(cases)('at $label: refused with 73, nothing written through the link, nothing published', ({ links, prepare, command }) => {
    const ws = workspace({ reports: 60 });
    fs.mkdirSync(ws.backups, { recursive: true });
    prepare?.(ws);
    const targetBefore = fs.existsSync(ws.target) ? sha256(ws.target) : undefined;
    const victims = path.join(ws.dir, 'victims');
    fs.mkdirSync(victims);
    for (const [i, link] of links(ws).entries()) fs.symlinkSync(path.join(victims, `victim-${i}`), link);

    const run = dbshift([...(command ?? ['migrate']), '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stdout).toBe(73);
    expect(json<{ error: { code: string } }>(run).error.code).toBe('output-is-symlink');
    expect(listDir(victims)).toEqual([]);
    expect(fs.existsSync(ws.target) ? sha256(ws.target) : undefined).toBe(targetBefore);
    expect(listDir(ws.instance).filter((n) => n.includes('.dbshift-tmp') && !fs.lstatSync(path.join(ws.instance, n)).isSymbolicLink())).toEqual([]);
  });

  it('a backup directory that is itself a link is followed, and the run says where files go', () => {
    const ws = workspace({ reports: 60 });
    const bigDisk = path.join(ws.dir, 'big-disk');
    fs.mkdirSync(bigDisk);
    fs.symlinkSync(bigDisk, ws.backups);
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stdout).toBe(0);
    expect(json<{ notices: string[] }>(run).notices.join('\n')).toContain(`Backups go to ${fs.realpathSync(bigDisk)}`);
    expect(listDir(bigDisk).some((n) => n.startsWith('health_records_backup_'))).toBe(true);
  });

  it('a regular file at a backup name is never overwritten: the next name is used', () => {
    const ws = workspace({ reports: 60 });
    fs.mkdirSync(ws.backups);
    const squatters = upcoming('health_records_backup', '.db', 30).map((n) => path.join(ws.backups, n));
    for (const file of squatters) fs.writeFileSync(file, 'not ours');
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stdout).toBe(0);
    for (const file of squatters) expect(fs.readFileSync(file, 'utf8')).toBe('not ours');
    expect(path.basename(json<{ backup: { path: string } }>(run).backup.path)).toMatch(/_2\.db$/);
  });
});

describe('bad input', () => {
  function corrupt(ws: Workspace, damage: (file: string, pageSize: number) => void): void {
    const db = new Database(ws.old, { readonly: true });
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.close();
    damage(ws.old, pageSize);
  }

  it.each([
    ['truncated to half', (file: string) => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2))],
    [
      'bytes flipped inside a b-tree page',
      (file: string, pageSize: number) => {
        const fd = fs.openSync(file, 'r+');
        // The page header of a page in the middle of the file: its type, freeblock and cell count.
        const page = Math.floor(fs.fstatSync(fd).size / pageSize / 2);
        fs.writeSync(fd, Buffer.from([0x0d ^ 0xff, 0xff, 0xff, 0xff, 0xff]), 0, 5, page * pageSize);
        fs.closeSync(fd);
      },
    ],
  ])('a database %s: 66 naming the source, no backup and no file but the run\'s record, no repair attempted', (_label, damage) => {
    const ws = workspace({ reports: 2000 });
    corrupt(ws, damage);
    const damaged = sha256(ws.old);
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stdout).toBe(66);
    // Found by the source's quick_check (its worker) or by the build's one read of the rows, whichever comes first: either way the source is named.
    expect(JSON.parse(run.stdout).error.message).toContain(ws.old);
    expect(sha256(ws.old)).toBe(damaged);
    expect(listDir(ws.instance)).toEqual(['health_records_old.db']);
    expect(listDir(ws.backups).filter((n) => !/^health_records_migration_\d{8}_\d{6}\.json$/.test(n))).toEqual([]);
  });

  it('huge values (64 MiB text) and arbitrary bytes and Unicode survive byte for byte, in bounded memory', () => {
    const ws = workspace({ reports: 60 });
    const huge = 'Ä'.repeat(32 * 1024 * 1024); // 64 MiB of UTF-8
    const invalidUtf8 = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0xe2, 0x82, 0xf0, 0x9f, 0x98]);
    const unicode = 'Zoë 🩺 \u202e\u0000tail 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ﷽';
    const db = new Database(ws.old);
    db.exec('CREATE TABLE attachment (id INTEGER PRIMARY KEY, body TEXT, raw BLOB)');
    db.prepare('INSERT INTO attachment VALUES (1, ?, ?), (2, ?, ?)').run(huge, invalidUtf8, unicode, Buffer.alloc(0));
    db.prepare('UPDATE user SET vorname = ? WHERE id = 1').run(unicode);
    // Invalid UTF-8 stored as TEXT: compared as bytes, since no string can hold it.
    db.exec(`INSERT INTO attachment VALUES (3, CAST(x'ff00c328e282f09f98' AS TEXT), NULL)`);
    db.close();

    const timed = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, path.join(ROOT, 'dist/cli/main.js'), 'migrate', '--json'], {
      cwd: ws.dir,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...ws.env },
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    expect(timed.status, timed.stdout.slice(0, 2000)).toBe(0);
    const peakKiB = Number(timed.stderr.trim().split('\n').at(-1));
    expect(peakKiB).toBeLessThan(600 * 1024);

    const after = new Database(ws.target, { readonly: true });
    const rows = after.prepare('SELECT id, body, raw FROM attachment ORDER BY id').all() as Array<{ id: number; body: string; raw: Buffer }>;
    expect(rows[0]!.body.length).toBe(huge.length);
    expect(rows[0]!.body === huge).toBe(true);
    expect(rows[0]!.raw.equals(invalidUtf8)).toBe(true);
    expect(rows[1]!.body).toBe(unicode);
    expect((after.prepare('SELECT vorname FROM user WHERE id = 1').get() as { vorname: string }).vorname).toBe(unicode);
    expect(after.prepare(`SELECT hex(CAST(body AS BLOB)) AS h, typeof(body) AS t FROM attachment WHERE id = 3`).get()).toEqual({ h: 'FF00C328E282F09F98', t: 'text' });
    after.close();
  }, 120_000);
});

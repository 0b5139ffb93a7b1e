import fs from 'node:fs';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dbshift } from '../support/cli.js';
import { listDir, makeSample, sha256, workspace, type Workspace } from '../support/fixtures.js';
import { dbshiftInPty, waitFor } from '../support/pty.js';

// What an operator at a real terminal gets. The CLI runs inside a pseudo-terminal and the test
// types the keys: Ctrl-C is the byte \x03, which becomes SIGINT only if the terminal is still
// in cooked mode (issue 14.1: the spinner's raw mode swallowed it, and every run published).

function leftovers(ws: Workspace): string[] {
  return [...listDir(ws.instance), ...listDir(ws.backups)].filter((n) => n.includes('.dbshift-tmp') || n === '.dbshift.lock');
}

/** Hold the run at `point` with the event loop blocked, the spinner on screen. */
function holdAt(ws: Workspace, point: string): { env: Record<string, string>; held: () => boolean; release: () => void } {
  const file = path.join(ws.dir, 'release');
  return {
    env: { DBSHIFT_FAULT: `hold@${point}@${file}` },
    held: () => fs.existsSync(`${file}.held`),
    release: () => fs.writeFileSync(file, ''),
  };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Ctrl-C at a terminal', () => {
  // snapshot-bytes is on the copy route only (--backup copy); snapshot-held is the old-file route's hold.
  it.each([
    ['snapshot-bytes', ['--backup', 'copy']],
    ['snapshot-held', []],
    ['transform-backfill', []],
    ['verify-rows', []],
  ])('typed during %s: exit 130, nothing published, lock released, no temp files', async (point, flags) => {
    const ws = workspace({ withSample: false });
    const source = path.join(ws.dir, 'prod', 'health_records.db');
    makeSample(ws, source, { reports: 2000 });
    const sourceHash = sha256(source);
    const hold = holdAt(ws, point);
    const run = dbshiftInPty(['migrate', ...flags], { cwd: ws.dir, env: { ...ws.env, SOURCE_DB: source, ...hold.env } });
    expect(await waitFor(hold.held, 120_000)).toBe(true);
    run.type('\x03');
    // `script` relays the key to the terminal; the kernel turns it into SIGINT at once (cooked mode).
    await settle(1000);
    hold.release();
    const result = await run.finished;

    expect(result.code, result.stdout).toBe(130);
    const screen = stripVTControlCharacters(result.stdout);
    expect(screen).toContain('stopping at the next safe point');
    expect(screen).toContain('dbshift migrate: FAILED (exit 130)');
    expect(fs.existsSync(ws.target)).toBe(false);
    expect(leftovers(ws)).toEqual([]);
    expect(sha256(source)).toBe(sourceHash);
    const rerun = dbshift(['migrate'], { cwd: ws.dir, env: { ...ws.env, SOURCE_DB: source } });
    expect(rerun.code, rerun.stderr).toBe(0);
  });

});

describe('sample at a terminal', () => {
  it('shows how far it is, and Ctrl-C leaves no partial file; the rerun writes the sample', async () => {
    const ws = workspace({ withSample: false });
    const out = path.join(ws.dir, 'big.db');
    const run = dbshiftInPty(['sample', '--out', out, '--reports', '200000'], { cwd: ws.dir, env: ws.env });
    let screen = '';
    run.host.stdout!.on('data', (d: Buffer) => (screen += d.toString()));
    // The progress line: "sample… 25,000 / 262,514 rows (9%)".
    expect(await waitFor(() => /sample… [\d,]+ \/ [\d,]+ rows \(\d+%\)/.test(stripVTControlCharacters(screen)), 60_000)).toBe(true);
    run.type('\x03');
    const result = await run.finished;
    expect(result.code, stripVTControlCharacters(screen)).toBe(130);
    expect(listDir(ws.dir).filter((n) => n.includes('big.db'))).toEqual([]);

    const rerun = dbshift(['sample', '--out', out, '--reports', '2000', '--json'], { cwd: ws.dir, env: ws.env });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(listDir(ws.dir).filter((n) => n.includes('big.db'))).toEqual(['big.db']);
  }, 120_000);
});

describe('what the terminal shows', () => {
  const colour = /\u001b\[(3\d|9\d)m/;

  it('NO_COLOR: no coloured spinner frame or mark; without it FAILED is red', async () => {
    const ws = workspace({ reports: 300 });
    const plain = await dbshiftInPty(['migrate', '--rehearse'], { cwd: ws.dir, env: { ...ws.env, NO_COLOR: '1' } }).finished;
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('REHEARSED');
    expect(plain.stdout).not.toMatch(colour);

    const failed = await dbshiftInPty(['migrate'], { cwd: ws.dir, env: { ...ws.env, SECRET_KEY: 'not-the-key' } }).finished;
    expect(failed.code).toBe(78);
    expect(failed.stdout).toContain('\u001b[31mFAILED (exit 78)');
    const failedPlain = await dbshiftInPty(['migrate'], { cwd: ws.dir, env: { ...ws.env, SECRET_KEY: 'not-the-key', NO_COLOR: '1' } }).finished;
    expect(failedPlain.stdout).toContain('FAILED (exit 78)');
    expect(failedPlain.stdout).not.toMatch(colour);
  });

  it('at 60 columns the summary breaks lines between words, never inside one', async () => {
    const ws = workspace({ reports: 300, messy: true });
    const run = await dbshiftInPty(['migrate', '--rehearse'], { cwd: ws.dir, env: { ...ws.env, NO_COLOR: '1' }, columns: 60 }).finished;
    expect(run.code).toBe(0);
    const summary = stripVTControlCharacters(run.stdout.slice(run.stdout.indexOf('dbshift migrate --rehearse: REHEARSED'))).split(/\r?\n/);
    expect(summary.length).toBeGreaterThan(20);
    // A longer line is one unbreakable word (a path) after its label.
    for (const line of summary) if (line.length > 60) expect(line.trim().split(/ {2,}/).at(-1), line).not.toContain(' ');
    expect(summary.some((line) => line.startsWith('  ✓  foreign_key_check'))).toBe(true);
  });
});

describe('versioned commands at a terminal', () => {
  it('Ctrl-C typed during up rolls the migration back: exit 130, version unchanged, lock released', async () => {
    const ws = workspace({ withSample: false });
    const database = path.join(ws.dir, 'app.db');
    makeSample(ws, database, { reports: 60_000 });
    const run = dbshiftInPty(['up', '--set', 'health-records', '--database', database], { cwd: ws.dir, env: ws.env });
    let screen = '';
    run.host.stdout!.on('data', (d: Buffer) => (screen += d.toString()));
    expect(await waitFor(() => screen.includes('up 000001_health_records_v5'), 60_000)).toBe(true);
    run.type('\x03');
    const result = await run.finished;
    const text = stripVTControlCharacters(screen);
    expect(result.code, text).toBe(130);
    expect(text).toContain('dbshift up: FAILED (exit 130)');
    expect(listDir(ws.dir).filter((n) => n.startsWith('.dbshift.lock') || n.endsWith('-journal'))).toEqual([]);
    const version = dbshift(['version', '--database', database, '--set', 'health-records'], { cwd: ws.dir, env: ws.env });
    expect(version.stdout.trim()).toBe('0 (nothing applied)');
  }, 120_000);
});

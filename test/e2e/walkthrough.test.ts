import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../support/cli.js';
import { query } from '../support/fixtures.js';
import { tempDir } from '../support/tmp.js';

// The README's walkthrough, run exactly as written: if dbshift and the README disagree, this fails.

function walkthroughScript(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme);
  if (!block) throw new Error('README.md has no walkthrough block');
  return block[1]!;
}

describe('README walkthrough', () => {
  it('runs from an empty directory with bash -e, and leaves the database where it says', () => {
    const dir = tempDir();
    const bin = path.join(dir, 'bin');
    const work = path.join(dir, 'work');
    fs.mkdirSync(bin);
    fs.mkdirSync(work);
    fs.writeFileSync(path.join(bin, 'dbshift'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
    const run = spawnSync('bash', ['-e', '-c', walkthroughScript()], {
      cwd: work,
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir, NODE_ENV: 'test' },
      encoding: 'utf8',
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);

    const db = path.join(work, 'app.db');
    expect(query(db, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: 4, dirty: 0 }]);
    expect(query(db, 'SELECT name, email FROM authors ORDER BY id')).toEqual([
      { name: 'Ada', email: 'author-1@example.invalid' },
      { name: 'Grace', email: 'author-2@example.invalid' },
    ]);
    expect(query(db, `SELECT count(*) AS n FROM tags WHERE tag = 'classic'`)).toEqual([{ n: 2 }]);
    const log = query<{ entry: string }>(db, `SELECT direction || ' ' || version AS entry FROM dbshift_history ORDER BY id`).map((r) => r.entry);
    expect(log).toEqual(['up 1', 'up 2', 'up 3', 'down 3', 'down 2', 'up 2', 'up 3', 'force 3', 'up 4']);
    // Every up and down took a backup first, each with its checksum file.
    const backups = fs.readdirSync(path.join(work, 'backups'));
    expect(backups.filter((f) => f.endsWith('.db')).length).toBe(backups.filter((f) => f.endsWith('.db.sha256')).length);
    expect(backups.filter((f) => f.endsWith('.db')).length).toBeGreaterThanOrEqual(7);
  });
});

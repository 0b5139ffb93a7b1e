import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMigrationDir } from '../../src/engine/discover.js';
import { lintPostgres } from '../../src/engine/drivers/postgres/lint.js';
import { pgMigrationSet } from '../../src/engine/drivers/postgres/load.js';
import { loadParser, preparsePgFiles, splitPgStatements } from '../../src/engine/drivers/postgres/statements.js';

// Every finding names the line of its statement in its own file: for a file that is not the
// first of the directory (lint parses the whole directory in one call to the parser), after
// multi-byte UTF-8 text (the parser counts bytes), and in a file without a final semicolon.

function dirOf(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbshift-pg-lines-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

async function findings(files: Record<string, string>): Promise<string[]> {
  const set = await pgMigrationSet(await loadMigrationDir(dirOf(files)), 170000);
  return (await lintPostgres(set)).findings.filter((f) => f.rule !== 'missing-down' && f.rule !== 'doc-missing').map((f) => `${f.file}:${f.line} ${f.rule}`);
}

describe('PostgreSQL lint: the line of each finding', () => {
  it('is the line in its own file, for every file of a directory parsed in one batch', async () => {
    const found = await findings({
      '000001_users.up.sql': "-- Nutzer (Grüße, 日本語)\nCREATE TABLE users (id bigint PRIMARY KEY, note text DEFAULT 'ééé');\n",
      '000002_posts.up.sql': "COMMENT ON TABLE users IS 'äöü ß 日本';\nCREATE TABLE posts (\n  id bigint PRIMARY KEY,\n  user_id bigint REFERENCES users (id)\n);\n",
      '000003_tags.up.sql': 'CREATE TABLE tags (\n  id bigint PRIMARY KEY,\n  created timestamp\n);\n',
    });
    expect(found).toEqual(expect.arrayContaining(['000002_posts.up.sql:4 foreign-key-without-on-delete', '000002_posts.up.sql:4 foreign-key-without-index', '000003_tags.up.sql:3 timestamp-without-time-zone']));
  });

  it('is right after a file without a final semicolon (which the batch now keeps instead of giving up on the directory)', async () => {
    const found = await findings({
      '000001_tags.up.sql': 'CREATE TABLE tags (id bigint PRIMARY KEY)',
      '000002_notes.up.sql': 'CREATE TABLE notes (\n  id bigint PRIMARY KEY,\n  tag_id bigint REFERENCES tags (id) ON DELETE CASCADE\n)',
      '000003_more.up.sql': "SELECT 'ß';\nCREATE TABLE more (\n  id bigint PRIMARY KEY,\n  at timestamp\n);\n",
    });
    expect(found).toEqual(['000002_notes.up.sql:3 foreign-key-without-index', '000003_more.up.sql:4 timestamp-without-time-zone']);
  });

  it('a batch parse gives each file the parse tree (locations included) it has alone', async () => {
    await loadParser();
    const files = ["SELECT 'ééé';\n", 'SELECT 1;\nCREATE TABLE b (\n  y int REFERENCES a\n)'];
    // A trailing space makes each a different text, so these are parsed alone, not taken from the batch.
    const alone = files.map((f) => splitPgStatements(`${f} `));
    preparsePgFiles(files);
    const batch = files.map((f) => splitPgStatements(f));
    expect(batch).toEqual(alone);
    const column = (batch[1]![1]!.node.tableElts as Array<{ ColumnDef: { location: number } }>)[0]!.ColumnDef;
    expect(Buffer.from(files[1]!, 'utf8').subarray(column.location).toString('utf8')).toMatch(/^y int/);
  });
});

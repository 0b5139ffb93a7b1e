// 000001_create_notes: a code migration. up, down and verify are synchronous; they run inside
// one transaction with foreign keys off (checked before commit).
import type { Check, MigrationContext } from 'dbshift';

export function up(ctx: MigrationContext): void {
  ctx.exec(`CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  )`);
  ctx.db.prepare('INSERT INTO notes (title, body) VALUES (?, ?)').run('Welcome', 'Created by the first migration.');
}

export function down(ctx: MigrationContext): void {
  ctx.exec('DROP TABLE notes');
}

export function verify(ctx: MigrationContext): Check[] {
  const { n } = ctx.db.prepare('SELECT count(*) AS n FROM notes').get() as { n: number };
  return [{ name: 'welcome note', ok: n === 1, detail: `${n} notes` }];
}

import fs from 'node:fs';
import path from 'node:path';
import { dbshift, type CliRun } from './cli.js';
import { tempDir } from './tmp.js';

/** A versioned-migrations project in a temp dir: migrations/ with `files`, DATABASE=app.db, BACKUP_DIR=backups. */
export function project(files: Record<string, string> = {}, extraEnv: Record<string, string> = {}) {
  const dir = tempDir();
  const migrations = path.join(dir, 'migrations');
  fs.mkdirSync(migrations);
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(migrations, name), content);
  const env = { DATABASE: 'app.db', MIGRATIONS_DIR: 'migrations', BACKUP_DIR: 'backups', ...extraEnv };
  const run = (...args: string[]): CliRun => dbshift(args, { cwd: dir, env });
  return { dir, migrations, db: path.join(dir, 'app.db'), env, run, write: (name: string, content: string) => fs.writeFileSync(path.join(migrations, name), content) };
}

/** Three SQL migrations; the third creates a table the tests fill with rows. */
export const THREE = {
  '000001_users.up.sql': 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);',
  '000001_users.down.sql': 'DROP TABLE users;',
  '000002_add_tasks.up.sql': 'CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT);',
  '000002_add_tasks.down.sql': 'DROP TABLE tasks;',
  '000003_notes.up.sql': 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);',
  '000003_notes.down.sql': 'DROP TABLE notes;',
};

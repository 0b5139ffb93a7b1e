// `npm run demo`: write a messy sample "production" database, migrate it, print the summary.
// Everything happens under .demo/ (ignored by git), never in instance/ or backups/.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demo = path.join(root, '.demo');
const cli = path.join(root, 'dist/cli/main.js');
fs.rmSync(demo, { recursive: true, force: true });
fs.mkdirSync(path.join(demo, 'prod'), { recursive: true });

const env = {
  ...process.env,
  // The demo key encrypts and opens the sample; with a real SECRET_KEY set, that one is used.
  SECRET_KEY: process.env.SECRET_KEY || 'dbshift-demo-key-not-a-secret',
  SOURCE_DB: path.join(demo, 'prod/health_records.db'),
  INSTANCE_DIR: path.join(demo, 'instance'),
  BACKUP_DIR: path.join(demo, 'backups'),
  ENV_FILE: path.join(demo, 'no.env'),
};
const run = (args) => {
  console.log(`\n$ dbshift ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', env, cwd: demo });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

run(['sample', '--out', env.SOURCE_DB, '--reports', '20000', '--messy', '--seed', '42']);
run(['migrate']);
console.log(`
Demo done. Everything is under ${path.relative(process.cwd(), demo) || '.demo'}/:
  prod/health_records.db       the "live" source (untouched)
  instance/health_records.db   the migrated database
  backups/                     the checksummed backup and the JSON record
Try (with SOURCE_DB, INSTANCE_DIR, BACKUP_DIR and SECRET_KEY set as above):
  node dist/cli/main.js backups
  node dist/cli/main.js restore      # roll back`);

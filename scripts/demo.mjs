// `npm run demo`: write a messy sample "production" database, migrate it, print the summary.
// Everything happens under .demo/ (ignored by git; DBSHIFT_DEMO_DIR names another place),
// never in instance/ or backups/.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demo = path.resolve(process.env.DBSHIFT_DEMO_DIR || path.join(root, '.demo'));
const cli = path.join(root, 'dist/cli/main.js');
fs.rmSync(demo, { recursive: true, force: true });
fs.mkdirSync(path.join(demo, 'prod'), { recursive: true });

// The demo's settings live in .demo/.env, which dbshift reads from the directory it runs in:
// the hint printed at the end then works exactly as printed.
// Only the demo key is ever written there (a SECRET_KEY in the environment still wins, for both
// the sample and the migration).
const settings = {
  SECRET_KEY: 'dbshift-demo-key-not-a-secret',
  SOURCE_DB: 'prod/health_records.db',
  INSTANCE_DIR: 'instance',
  BACKUP_DIR: 'backups',
};
fs.writeFileSync(path.join(demo, '.env'), Object.entries(settings).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n') + '\n', { mode: 0o600 });
const env = { ...process.env };
for (const name of ['SOURCE_DB', 'INSTANCE_DIR', 'BACKUP_DIR', 'ENV_FILE']) delete env[name];
const run = (args) => {
  console.log(`\n$ dbshift ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', env, cwd: demo });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

run(['sample', '--out', settings.SOURCE_DB, '--reports', '20000', '--messy', '--seed', '42']);
run(['migrate']);
run(['backups']);
// Paths as short as they can be while still working when pasted.
const shown = (to, from) => {
  const relative = path.relative(from, to);
  return relative.startsWith('..' + path.sep + '..') ? to : relative || '.';
};
const here = shown(demo, process.cwd());
console.log(`
Demo done. Everything is under ${here}/ (settings in ${here}/.env):
  prod/health_records.db       the "live" source (untouched)
  instance/health_records.db   the migrated database
  backups/                     the checksummed backup and the JSON record
Try (as printed, from here):
  cd ${here} && node ${shown(cli, demo)} backups
  cd ${here} && node ${shown(cli, demo)} restore      # roll back
With dbshift on your PATH (npm link), \`dbshift backups\` in ${here} does the same.`);

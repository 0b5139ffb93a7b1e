// An app that brings its database up to date as it starts, before it serves anything.
// Several instances may start at once: one migrates, the others wait and find nothing to do.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrateToLatest } from 'dbshift';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const database = process.env.APP_DATABASE ?? path.join(root, 'data', 'app.db');

const result = await migrateToLatest({
  database,
  dir: path.join(root, 'migrations'),
  backupDir: path.join(path.dirname(database), 'backups'),
  // Another instance may be migrating: wait for it up to 30 s instead of failing.
  wait: 30_000,
  onProgress: (event) => {
    if (event.phase === 'start' && event.message) console.error(`[migrations] ${event.message}`);
    if (event.phase === 'end' && event.result) console.error(`[migrations] ${event.result.name}: ${event.result.status} in ${event.result.ms} ms`);
  },
});

if (!result.ok) {
  // Expected failures come back as data: what happened, what it did to the data, what to do next.
  const { message, dataState, hint, exitCode } = result.error;
  console.error(`[migrations] ${message}\n${dataState ?? ''}\nNext: ${hint ?? 'see the message above'}`);
  process.exit(exitCode);
}

const applied = result.steps.filter((step) => step.status === 'applied').map((step) => step.version);
console.log(JSON.stringify({ pid: process.pid, status: result.status, version: result.after?.version, applied }));
// …the app would start serving here.

// A separate process that runs `up` through the built PostgreSQL driver and prints the result
// as JSON (for the SIGKILL test). Usage: node pg-runner.mjs URL DIR
import { runVersions } from '../../dist/engine/versions.js';
import { resolvePgTarget } from '../../dist/engine/drivers/postgres/connection.js';
import { PostgresDriver } from '../../dist/engine/drivers/postgres/driver.js';
import { loadPgMigrationDir } from '../../dist/engine/drivers/postgres/load.js';

const [url, dir] = process.argv.slice(2);
const driver = await PostgresDriver.open(resolvePgTarget(url, {}));
try {
  const set = await loadPgMigrationDir(dir, driver.serverVersionNum);
  const result = await runVersions(driver, set, { kind: 'up' }, 'up', { backupDir: `${dir}/backups`, backup: false, wait: true, waitMs: 30_000 });
  process.stdout.write(JSON.stringify(result));
  process.exitCode = result.error?.exitCode ?? 0;
} finally {
  await driver.close();
}

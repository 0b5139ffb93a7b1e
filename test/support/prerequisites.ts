import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// vitest globalSetup, first: `npm test` needs more than Node (README "Quickstart"). Checked
// before any test starts, so that a newcomer reads one message naming the one apt-get line,
// not dozens of failures minutes later. `.ci/run` installs the same packages.

interface Prerequisite {
  /** What the tests use it for. */
  use: string;
  /** The Debian package that provides it. */
  pkg: string;
  present: () => boolean;
}

const onPath = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

/** PostgreSQL's server binaries (pg-cluster.ts finds them the same way), unless the tests get a server of their own. */
function postgresServer(): boolean {
  if (process.env.DBSHIFT_TEST_PG_URL) return true;
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root) : [];
  const bindir = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const dirs = [...(bindir.status === 0 ? [bindir.stdout.trim()] : []), ...versions.map((v) => path.join(root, v, 'bin'))];
  return dirs.some((dir) => fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl'))) && onPath('pg_dump');
}

const PREREQUISITES: Prerequisite[] = [
  { use: 'a throwaway PostgreSQL cluster (initdb, pg_ctl, pg_dump)', pkg: 'postgresql', present: postgresServer },
  { use: 'the sqlite3 shell (reference SQL, the walkthrough)', pkg: 'sqlite3', present: () => onPath('sqlite3') },
  { use: 'strace (I/O fault injection)', pkg: 'strace', present: () => onPath('strace') },
  { use: '/usr/bin/time (peak memory)', pkg: 'time', present: () => fs.existsSync('/usr/bin/time') },
  { use: 'script (a terminal for the Ctrl-C tests)', pkg: 'bsdutils', present: () => onPath('script') },
  { use: 'sha256sum (checksum files as operators check them)', pkg: 'coreutils', present: () => onPath('sha256sum') },
  // Alembic's own CLI, through the system Python (a pyenv python3 on PATH may not see it).
  { use: 'Alembic (the Alembic switch tests)', pkg: 'python3-alembic', present: () => spawnSync('/usr/bin/python3', ['-c', 'import alembic'], { stdio: 'ignore' }).status === 0 },
];

export default function setup(): void {
  const missing = PREREQUISITES.filter((p) => !p.present());
  if (missing.length === 0) return;
  throw new Error(
    [
      'npm test needs tools this machine does not have:',
      ...missing.map((p) => `  - ${p.use}`),
      'Install them (Debian/Ubuntu), or run .ci/run, which does:',
      `  sudo apt-get install ${missing.map((p) => p.pkg).join(' ')}`,
    ].join('\n'),
  );
}

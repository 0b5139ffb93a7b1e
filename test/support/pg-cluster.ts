import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

// vitest globalSetup: one throwaway PostgreSQL cluster for the whole run (initdb + pg_ctl in a
// temp dir, its own port and socket directory, fsync off), stopped and removed afterwards.
// DBSHIFT_TEST_PG_URL points the tests at a server of your own instead (a superuser URL: the
// tests create and drop their own databases there). Missing binaries fail the run: no skips.

const SUPERUSER = 'dbshift';
const PASSWORD = 'test-pw-Ω-secret';

function binDir(): string {
  const candidates: string[] = [];
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (fromConfig.status === 0) candidates.push(fromConfig.stdout.trim());
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) {
    for (const v of fs.readdirSync(root).sort((a, b) => Number(b) - Number(a))) candidates.push(path.join(root, v, 'bin'));
  }
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl')));
  if (!found) {
    throw new Error(
      'The PostgreSQL tests need a PostgreSQL server (initdb, pg_ctl), and none was found (pg_config --bindir, /usr/lib/postgresql/*/bin). ' +
        'Install it: `sudo apt-get install postgresql` (.ci/run does), or set DBSHIFT_TEST_PG_URL to a server of your own.',
    );
  }
  return found;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** initdb and the server refuse to run as root: run them as an unprivileged user then. */
function runAs(): { user?: string; uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  for (const user of ['postgres', 'nobody']) {
    const entry = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    if (entry.status !== 0) continue;
    const gid = Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
    return { user, uid: Number(entry.stdout.trim()), gid };
  }
  throw new Error('Running as root, and neither a "postgres" nor a "nobody" user exists to run the test server as.');
}

function run(owner: { user?: string }, file: string, args: string[]): void {
  const [cmd, argv] = owner.user ? ['runuser', ['-u', owner.user, '--', file, ...args]] : [file, args];
  execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
}

/** A throwaway cluster of its own: the run's server, or one a test restarts under a running dbshift. */
export interface Cluster {
  url: string;
  bin: string;
  /** `pg_ctl restart -m fast`: every session is ended, then the server accepts connections again. */
  restart(): void;
  stop(): void;
}

export async function startCluster(): Promise<Cluster> {
  const bin = binDir();
  const owner = runAs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbshift-pg-'));
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'socket');
  fs.mkdirSync(socket);
  const pwfile = path.join(dir, 'pw');
  fs.writeFileSync(pwfile, PASSWORD);
  if (owner.uid !== undefined) {
    for (const p of [dir, socket, pwfile]) fs.chownSync(p, owner.uid, owner.gid!);
  }
  const port = await freePort();
  run(owner, path.join(bin, 'initdb'), ['-D', data, '-U', SUPERUSER, `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const options = [`-p ${port}`, `-k ${socket}`, "-c listen_addresses='127.0.0.1'", '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=200'];
  const log = path.join(dir, 'server.log');
  run(owner, path.join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-o', options.join(' '), '-w', '-t', '60', 'start']);
  return {
    url: `postgres://${SUPERUSER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/postgres`,
    bin,
    restart: () => run(owner, path.join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-o', options.join(' '), '-m', 'fast', '-w', '-t', '60', 'restart']),
    stop: () => {
      try {
        run(owner, path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.DBSHIFT_TEST_PG_URL;
  if (external) {
    project.provide('pgUrl', external);
    project.provide('pgBin', '');
    return async () => undefined;
  }
  const cluster = await startCluster();
  project.provide('pgUrl', cluster.url);
  project.provide('pgBin', cluster.bin);
  return async () => cluster.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    pgBin: string;
  }
}

import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { dbshift, json, TEST_KEY } from './cli.js';
import { tempDir } from './tmp.js';

export interface SampleJson {
  path: string;
  rows: Record<string, number>;
  anomalies: Record<string, number>;
  expectedWarnings: Record<string, number>;
}

export interface Workspace {
  dir: string;
  instance: string;
  backups: string;
  old: string;
  target: string;
  env: Record<string, string>;
  sample?: SampleJson;
}

/** A working directory laid out like the operator guide: instance/health_records_old.db prepared by hand. */
export function workspace(options: { reports?: number; messy?: boolean; seed?: number; withSample?: boolean } = {}): Workspace {
  const dir = tempDir();
  const ws: Workspace = {
    dir,
    instance: path.join(dir, 'instance'),
    backups: path.join(dir, 'backups'),
    old: path.join(dir, 'instance', 'health_records_old.db'),
    target: path.join(dir, 'instance', 'health_records.db'),
    env: { SECRET_KEY: TEST_KEY, DBSHIFT_BUSY_TIMEOUT_MS: '500' },
  };
  if (options.withSample !== false) ws.sample = makeSample(ws, ws.old, options);
  return ws;
}

export function makeSample(ws: Workspace, out: string, options: { reports?: number; messy?: boolean; seed?: number } = {}): SampleJson {
  const args = ['sample', '--out', out, '--reports', String(options.reports ?? 300), '--seed', String(options.seed ?? 1), '--json'];
  if (options.messy) args.push('--messy');
  const run = dbshift(args, { cwd: ws.dir, env: ws.env });
  if (run.code !== 0) throw new Error(`sample failed: ${run.stderr}`);
  return json<SampleJson>(run);
}

export function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export function listDir(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

export function query<T = Record<string, unknown>>(file: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Every file under `dir` (recursively) with its permission bits. */
export function modes(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, full)] = fs.statSync(full).mode & 0o777;
  }
  return out;
}

import { toToolError } from '../errors.js';
import type { ProgressListener } from '../progress.js';
import { migrationLabel } from './discover.js';
import type { MigrationStep } from './types.js';

// The engine's progress events (src/progress.ts), the same from the SQLite runner
// (versions.ts) and the driver runner (drive.ts): the backup, then each migration.

/** A backup's start now; call the result with the backup's path when it is done. */
export function backupProgress(onProgress: ProgressListener | undefined, location: string): (path: string) => void {
  const started = performance.now();
  onProgress?.({ step: 'backup', phase: 'start', label: location, message: `backing up ${location}` });
  return (path) => onProgress?.({ step: 'backup', phase: 'end', result: { name: 'backup', status: 'ok', ms: Math.round(performance.now() - started), detail: path } });
}

/** Migration `i` of `total` starts now; say how it ended with `ok` or `failed`. */
export function migrationProgress(onProgress: ProgressListener | undefined, step: MigrationStep, i: number, total: number, transactional: boolean) {
  const name = `${step.direction} ${migrationLabel(step)}`;
  const started = performance.now();
  const event = { step: 'migration', label: migrationLabel(step), done: i, total, unit: 'migrations' } as const;
  onProgress?.({ ...event, phase: 'start', message: `${name}${transactional ? '' : ' (no transaction)'}` });
  return {
    ok: (ms: number) => onProgress?.({ ...event, phase: 'end', done: i + 1, result: { name, status: 'ok', ms } }),
    failed: (error: unknown) => onProgress?.({ ...event, phase: 'end', result: { name, status: 'failed', ms: Math.round(performance.now() - started), detail: toToolError(error).message } }),
  };
}

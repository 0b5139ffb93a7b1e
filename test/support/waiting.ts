import type { ChildProcess } from 'node:child_process';
import { query } from './pg.js';
import { collect, type Finished } from './process.js';

// Waiting on child processes and on the server without hanging the suite when a build is broken.

/** A CLI run that may hang on a broken build: killed after `ms` (code null) instead of hanging the suite. */
export async function within(child: ChildProcess, ms: number): Promise<Finished> {
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  try {
    return await collect(child);
  } finally {
    clearTimeout(timer);
  }
}

export async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never: ${what}`);
}

export const waitingFor = (url: string, app: string, text: string) => async () =>
  (await query(url, `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query LIKE $2`, [app, `%${text}%`])).length > 0;

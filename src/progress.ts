// One progress vocabulary for every long command, at the bottom of the layering beside
// results.ts: the pipeline's steps (preflight, snapshot, backup…) and the engine's work (the
// lock, the backup, each migration) send the same events. The CLI draws them; an app passes its
// own listener (a logger) or none.

/** How a step or a migration ended, on its `end` event. */
export interface ProgressResult {
  /** The step (`backup`) or the migration (`up 000002_add_email`). */
  name: string;
  status: 'ok' | 'failed' | 'skipped' | 'not-run';
  ms: number;
  /** One line on what it did, or why it failed or was skipped. */
  detail?: string;
}

export interface ProgressEvent {
  /** What is running: a pipeline step (`preflight`, `backup`, `publish`…) or the engine's `lock`, `backup`, `migration`. */
  step: string;
  phase: 'start' | 'progress' | 'end';
  done?: number;
  total?: number;
  unit?: 'pages' | 'bytes' | 'rows' | 'tables' | 'steps' | 'migrations';
  /** What is being worked on now, e.g. a table or a migration (`000002_add_email`). */
  label?: string;
  /** One line for a person, e.g. `up 000002_add_email (no transaction)`. */
  message?: string;
  /** On `end`: how it ended. */
  result?: ProgressResult;
}

export type ProgressListener = (event: ProgressEvent) => void;

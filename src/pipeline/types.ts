import type { ProgressEvent as SharedProgressEvent } from '../progress.js';
import type { Check, CommandResult, ResultError, Warning } from '../results.js';

export type StepName = 'preflight' | 'lock' | 'snapshot' | 'backup' | 'transform' | 'verify' | 'publish' | 'restore';
export type StepStatus = 'ok' | 'failed' | 'skipped' | 'not-run';
export type RunStatus = 'migrated' | 'nothing-to-do' | 'rehearsed' | 'failed' | 'planned' | 'verified' | 'backed-up' | 'restored';

export interface StepResult {
  name: StepName;
  status: StepStatus;
  ms: number;
  /** One line on what the step did, e.g. "12,345 pages" or why it was skipped. */
  detail?: string;
}

/** A pipeline step's progress: the shared event (src/progress.ts), named by the step. */
export interface ProgressEvent extends SharedProgressEvent {
  step: StepName;
  /** On `end`: how the step ended. */
  result?: StepResult;
}

export type ProgressListener = (event: ProgressEvent) => void;

/** The shared error shape (src/results.ts). */
export type RunError = ResultError;

export interface TableCount {
  before: number | null;
  after: number | null;
}

/** What every pipeline command returns; the CLI renders it as text or as this exact JSON. */
export interface RunResult extends CommandResult {
  status: RunStatus;
  schemaState: string;
  steps: StepResult[];
  counts: Record<string, TableCount>;
  warnings: Warning[];
  backup: { path: string; sha256: string } | null;
  /**
   * migrate: how the backup of the old database was (or would have been) made, and why:
   * `old-file` (the old file itself, moved into backups/ at publish), `copy` or `backup-api`.
   */
  backupRoute?: { route: 'old-file' | 'copy' | 'backup-api'; reason: string };
  target: string;
  error?: RunError;
  /** Verification proofs, each with its verdict. */
  checks: Check[];
  /** The migration unit's own summary (status distributions, identifiers). */
  summary?: unknown;
  /** Notices for the operator (a stale lock taken over, a leftover cleaned up, a file moved aside). */
  notices: string[];
  source: string;
  /** The run's UTC moment (identifier date of last resort). */
  runAt: string;
  totalMs: number;
  /** The JSON record written into the backup directory. */
  reportPath?: string;
  /** `plan` only: the statements the build would run, the space it needs, and the triggers it carries over (created after the data, never fired). */
  plan?: { statements: string[]; spaceNeeded: SpaceNeed[]; triggers: Array<{ name: string; table: string }> };
}

export interface SpaceNeed {
  directory: string;
  neededBytes: number;
  availableBytes: number;
  for: string[];
}

import type { Config } from '../config.js';
import { InterruptedError } from '../errors.js';
import type { ForeignKeyViolation } from '../sqlite/checks.js';
import type { Db } from '../sqlite/open.js';
import type { InstanceLock } from '../files/lock.js';
import type { Check, Inspection, MigrationUnit, TransformPlan, Warning } from '../plans/unit.js';
import type { ProgressEvent, ProgressListener, SpaceNeed, StepName, TableCount } from './types.js';
import { hitFaultPoint } from '../faults.js';

export interface RunOptions {
  strict?: boolean;
  rehearse?: boolean;
  /** Keep a JSON record of the run in the backup directory (migrate). */
  record?: boolean;
  onProgress?: ProgressListener;
  /** Aborted by the CLI on SIGINT/SIGTERM; long work checks it between chunks. */
  signal?: AbortSignal;
  /** Injected clock, so that names and dates are testable. */
  now?: () => Date;
}

/** The state that flows from step to step during one run. Steps read and fill it. */
export interface RunContext {
  config: Config;
  unit: MigrationUnit;
  options: RunOptions;
  now: () => Date;
  runDate: Date;
  /** Where this run writes: the instance directory, or a throw-away directory when rehearsing. */
  workDir: string;
  backupDir: string;

  source: string;
  sourceDb?: Db;
  sourceDataVersion?: number;
  inspection?: Inspection;
  plan?: TransformPlan;
  countsBefore: Record<string, number>;
  foreignKeysBefore: ForeignKeyViolation[];
  warnings: Warning[];
  spaceNeeded: SpaceNeed[];

  lock?: InstanceLock;
  /** The snapshot: the backup's partial file, and the name it gets once hashed. */
  snapshot?: { partial: string; final: string };
  /** Where the JSON record goes, chosen (and checked) when the lock is taken. */
  reportPath?: string;
  workFile?: string;
  workDb?: Db;
  workJournalMode?: string;
  backup?: { path: string; sha256: string };
  checks: Check[];
  countsAfter: Record<string, number>;
  summary?: unknown;
  notices: string[];
  /** Undo actions for files this run created, run in reverse order when the run fails. */
  cleanups: Array<() => void>;

  emit(event: ProgressEvent): void;
  /** Between chunks of long work: stop on Ctrl-C, honour a test fault point. */
  checkpoint(point: string): void;
}

export function createContext(config: Config, unit: MigrationUnit, options: RunOptions, dirs: { workDir: string; backupDir: string }): RunContext {
  const now = options.now ?? (() => new Date());
  return {
    config,
    unit,
    options,
    now,
    runDate: now(),
    workDir: dirs.workDir,
    backupDir: dirs.backupDir,
    source: config.sourceDb,
    countsBefore: {},
    foreignKeysBefore: [],
    warnings: [],
    spaceNeeded: [],
    checks: [],
    countsAfter: {},
    notices: [],
    cleanups: [],
    emit(event) {
      options.onProgress?.(event);
    },
    checkpoint(point) {
      if (options.signal?.aborted) {
        throw new InterruptedError('interrupted', 'Interrupted.', { hint: 'Run the same command again when ready.' });
      }
      hitFaultPoint(config.fault, point);
    },
  };
}

export function tableCounts(before: Record<string, number>, after: Record<string, number>): Record<string, TableCount> {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return Object.fromEntries(names.map((n) => [n, { before: before[n] ?? null, after: after[n] ?? null }]));
}

export type { StepName };

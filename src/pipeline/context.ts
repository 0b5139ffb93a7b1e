import type { Config } from '../config.js';
import { InterruptedError } from '../errors.js';
import type { InstanceLock } from '../files/lock.js';
import type { Inspection, MigrationUnit } from '../plans/unit.js';
import type { Check, Warning } from '../results.js';
import type { ProgressEvent, ProgressListener, SpaceNeed, StepName, TableCount } from './types.js';
import { hitFaultPoint } from '../faults.js';
import type { BackupRouteChoice } from './step-data.js';

export interface RunOptions {
  strict?: boolean;
  rehearse?: boolean;
  /**
   * How migrate backs up the old database: `auto` (default) lets the old file itself become the
   * backup when that is provably safe, else copies; `copy` always writes an independent copy.
   */
  backup?: 'auto' | 'copy';
  /** Keep a JSON record of the run in the backup directory (migrate). */
  record?: boolean;
  onProgress?: ProgressListener;
  /** Aborted by the CLI on SIGINT/SIGTERM; long work checks it between chunks. */
  signal?: AbortSignal;
  /** Injected clock, so that names and dates are testable. */
  now?: () => Date;
}

/**
 * What the run reports, filled in as it goes, so that a failed run still reports what it
 * learned. Data that steps hand to each other does not live here: each step returns it.
 */
export interface RunReport {
  inspection?: Inspection;
  countsBefore: Record<string, number>;
  countsAfter: Record<string, number>;
  warnings: Warning[];
  checks: Check[];
  summary?: unknown;
  backup?: { path: string; sha256: string };
  /** Which route the backup takes (migrate), and why. */
  backupRoute?: BackupRouteChoice;
  notices: string[];
  /** Where the JSON record goes, chosen (and checked) when the lock is taken. */
  reportPath?: string;
  plan?: { statements: string[]; spaceNeeded: SpaceNeed[]; triggers: Array<{ name: string; table: string }> };
}

/** The run's fixed surroundings, shared by every step. */
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
  report: RunReport;
  /** The instance lock, once taken; released by the command after its record is written. */
  lock?: InstanceLock;
  /** Undo actions for files and workers this run started, run in reverse order when the run ends. */
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
    report: { countsBefore: {}, countsAfter: {}, warnings: [], checks: [], notices: [] },
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

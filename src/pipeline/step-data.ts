import type { Inspection } from '../plans/unit.js';
import type { BackgroundTask } from '../sqlite/background.js';
import type { ForeignKeyViolation } from '../sqlite/checks.js';
import type { Db } from '../sqlite/open.js';
import type { SourceHold } from '../sqlite/quiescent.js';

// What the migrate steps hand each other, in one place below them, so that no step imports
// another (each step file imports these types and the shared modules, never a sibling step).

export interface PreflightOut {
  sourceDb: Db;
  /** `PRAGMA data_version` when the source was checked: publish refuses if it moved. */
  sourceDataVersion: number;
  sourceJournalMode: string;
  inspection: Inspection;
  /**
   * The source's quick_check and foreign_key_check, in a worker thread beside the rest of the
   * run; awaited before the backup is named. Resolves to the violations already in the source,
   * rejects with 66 if quick_check complains.
   */
  sourceChecked: Promise<ForeignKeyViolation[]>;
  /** True when the warnings were collected here (plan, --strict); otherwise the build notes them. */
  warningsCollected: boolean;
  /** True when the id check and the counts ran here (plan, --strict, a partial schema); otherwise the build does them. */
  rowsScanned: boolean;
}

/**
 * How the backup of the old database comes to be:
 * - `old-file`: the source is held quiescent for the whole run and is replaced (or consumed) at
 *   publish, so the old file itself becomes the backup by a hard link or rename, no bytes written;
 * - `copy`: a kernel copy of the quiescent source into the backup's partial file;
 * - `backup-api`: SQLite's online backup API (a source with -wal content, or not quiescent).
 */
export type BackupRoute = 'old-file' | 'copy' | 'backup-api';

export interface BackupRouteChoice {
  route: BackupRoute;
  /** Why this route, in one line for the summary and the JSON record. */
  reason: string;
}

export interface SnapshotOut {
  snapshot: BackupRouteChoice & {
    /** What the build reads and verification compares against: the source itself (old-file) or the partial copy. */
    baseline: string;
    /** The backup's partial file (copy routes only). */
    partial?: string;
    /** The name the backup gets: at the backup step (copy routes) or at publish (old-file). */
    final: string;
    /** The SHA-256 of the bytes that become the backup, hashed in a worker beside the build. */
    sha256: BackgroundTask<string>;
    /** The partial file's fsync, overlapping the build (resolved at once on the old-file route: nothing is written). */
    synced: Promise<void>;
    /** old-file: the source's read transaction, held until the old file is the backup. */
    hold?: SourceHold;
  };
}

export interface TransformOut {
  workFile: string;
  workDb: Db;
  /** The work file's fsync, started as soon as it is built, so that it overlaps verification. */
  workSynced: Promise<void>;
}

export interface BackupOut {
  /** The backup as it will be recorded (on the old-file route it exists only after publish). */
  backup: { path: string; sha256: string };
  /** Foreign-key violations already in the source (reported, never repaired): verification fails only on new ones. */
  foreignKeysBefore: ForeignKeyViolation[];
  /** What verification compares against: the backup (copy routes) or the held source (old-file), the same bytes. */
  baseline: string;
}

import type { Db } from './open.js';

export type PageProgress = (copiedPages: number, totalPages: number) => void;

/** Pages per backup step: large enough to be quick, small enough to show progress and see Ctrl-C. */
const PAGES_PER_STEP = 4096;

/**
 * Copy a live database with SQLite's online backup API into `destination`, which must already
 * exist (empty, created private by the caller). Unlike a file copy this includes everything
 * committed in the source's -wal, and it is consistent: if another connection writes the
 * source mid-copy, SQLite restarts the copy. `checkAbort` may throw to stop between steps.
 */
export async function snapshotDatabase(source: Db, destination: string, onProgress?: PageProgress, checkAbort?: () => void): Promise<number> {
  const result = await source.backup(destination, {
    progress({ totalPages, remainingPages }) {
      checkAbort?.();
      onProgress?.(totalPages - remainingPages, totalPages);
      return PAGES_PER_STEP;
    },
  });
  onProgress?.(result.totalPages, result.totalPages);
  return result.totalPages;
}

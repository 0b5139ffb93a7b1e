import fs from 'node:fs';

export function availableBytes(dir: string): number {
  const stats = fs.statfsSync(dir);
  return stats.bavail * stats.bsize;
}

/** Identifies the filesystem a directory lives on, so that needs on one disk are added up. */
export function deviceOf(dir: string): number {
  return fs.statSync(dir).dev;
}

import fs from 'node:fs';
import path from 'node:path';
import { isSymlink, TEMP_MARKER } from './create.js';
import { symlinkRefused } from './names.js';

/**
 * Remove dbshift's own leftovers (files carrying the temp marker) from an interrupted run.
 * Only call this while holding the instance lock: then no other run can be using them.
 * A symlink with the marker was not made by dbshift and is refused. `belongsToThisRun` narrows it
 * to the names the caller's lock covers (a backup directory may be shared). Returns what was removed.
 */
export function removeLeftovers(dirs: string[], belongsToThisRun: (name: string) => boolean = () => true): string[] {
  const removed: string[] = [];
  for (const dir of dirs) {
    for (const name of fs.readdirSync(dir)) {
      if (!name.includes(TEMP_MARKER) || !belongsToThisRun(name)) continue;
      const file = path.join(dir, name);
      if (isSymlink(file)) throw symlinkRefused(file);
      fs.rmSync(file, { force: true });
      removed.push(file);
    }
  }
  return removed;
}

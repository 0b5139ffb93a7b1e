import fs from 'node:fs';
import { CannotCreateError } from '../errors.js';

// A database path that is a symlink (instance/health_records.db -> /data/live.db) is a common
// deployment layout. Renaming a new file over the link would replace the link and leave the
// real file, the one the app may open by its real path, as it was; and "keeping" the old file
// would keep a link. So whatever dbshift publishes or restores goes to the link's real target,
// in that file's own directory (where an atomic rename is possible), and the link stays.

export interface PublishTarget {
  /** Where the file really is: the path to publish at, to keep a copy of, to lock beside. */
  path: string;
  /** The link that was named, when `path` was reached through one. */
  link?: string;
}

export function publishTarget(target: string): PublishTarget {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(target);
  } catch {
    return { path: target };
  }
  if (!stat.isSymbolicLink()) return { path: target };
  let real: string;
  try {
    real = fs.realpathSync(target);
  } catch {
    throw new CannotCreateError('target-link-dangling', `${target} is a symlink to ${fs.readlinkSync(target)}, which does not exist; dbshift does not publish through a broken link.`, {
      hint: 'Point the link at the live database (or remove it), then run again.',
      dataState: 'Nothing was changed.',
    });
  }
  if (!fs.statSync(real).isFile()) {
    throw new CannotCreateError('target-link-not-file', `${target} is a symlink to ${real}, which is not a regular file.`, {
      hint: 'Point the link at the database file, then run again.',
      dataState: 'Nothing was changed.',
    });
  }
  return { path: real, link: target };
}

export function linkNotice(target: PublishTarget): string[] {
  return target.link ? [`${target.link} is a symlink to ${target.path}: the new file goes to ${target.path} (the link stays as it is).`] : [];
}

import fs from 'node:fs';

/**
 * The app must be able to open what is published. Run as root (common in maintenance scripts),
 * dbshift would otherwise hand the app a root-owned 0600 file; so the published file takes the
 * owner and group of `like` (the file it replaces). The mode stays 0600.
 */
export function keepOwner(like: string, file: string, notices: string[]): void {
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = fs.statSync(like);
  const current = fs.statSync(file);
  if (current.uid === uid && current.gid === gid) return;
  fs.chownSync(file, uid, gid);
  notices.push(`The published file is owned by uid ${uid}, gid ${gid}, like ${like}.`);
}

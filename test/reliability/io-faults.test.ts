import { spawn, spawnSync } from 'node:child_process';
import { dateStamp } from '../support/stamp.js';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshiftAsync } from '../support/cli.js';
import { listDir, sha256, workspace, type Workspace } from '../support/fixtures.js';
import { collect, waitUntilStopped } from '../support/process.js';

// Disk full (ENOSPC) and I/O errors (EIO), injected with strace's syscall fault injection into
// the real CLI: it is paused at a fault point, strace attaches and fails every matching system
// call on the named files, and the run continues. No root, no special filesystem.

const WORK = '.health_records.db.work.dbshift-tmp';

function partialBackupNames(ws: Workspace): string[] {
  // The name is chosen when the snapshot starts, possibly seconds before the pause: cover both sides.
  const now = Date.now();
  return Array.from({ length: 40 }, (_, i) => path.join(ws.backups, `.health_records_backup_${dateStamp(new Date(now + (i - 15) * 1000))}.db.partial.dbshift-tmp`));
}

/** The backup's checksum file, written at publish on the old-file route (the name is chosen when the run holds the source). */
function backupChecksumNames(ws: Workspace): string[] {
  return partialBackupNames(ws).map((p) => p.replace(/\/\.(health_records_backup_.*\.db)\.partial\.dbshift-tmp$/, '/$1.sha256'));
}

interface FaultCase {
  label: string;
  /** The copy routes are asked for explicitly: by default the hand copy itself becomes the backup. */
  args?: string[];
  pause: string;
  syscall: string;
  errno: 'ENOSPC' | 'EIO';
  paths: (ws: Workspace) => string[];
}

const cases: FaultCase[] = [
  // The snapshot is written into the backup's partial file (a kernel copy by `cp`: the source is
  // quiescent), fsynced beside the build; the build writes the work file.
  // `cp` copies in the kernel (copy_file_range); older coreutils fall back to write.
  { label: 'disk full at the snapshot', args: ['--backup', 'copy'], pause: 'before-snapshot', syscall: 'copy_file_range,write,pwrite64', errno: 'ENOSPC', paths: partialBackupNames },
  { label: 'I/O error at the snapshot', args: ['--backup', 'copy'], pause: 'before-snapshot', syscall: 'copy_file_range,write,pwrite64', errno: 'EIO', paths: partialBackupNames },
  { label: 'I/O error making the backup durable', args: ['--backup', 'copy'], pause: 'before-snapshot', syscall: 'fsync', errno: 'EIO', paths: partialBackupNames },
  { label: 'disk full writing the built file', pause: 'transform-indexes', syscall: 'pwrite64', errno: 'ENOSPC', paths: (ws) => [path.join(ws.instance, WORK)] },
  { label: 'disk full in the transform', pause: 'before-transform', syscall: 'pwrite64', errno: 'ENOSPC', paths: (ws) => [path.join(ws.instance, WORK)] },
  { label: 'I/O error at publish (fsync of the migrated file)', pause: 'before-publish', syscall: 'fsync', errno: 'EIO', paths: (ws) => [path.join(ws.instance, WORK)] },
  // The old-file route: the hand copy gets the backup's name at publish, then its checksum file.
  { label: 'disk full writing the backup\'s checksum at publish (old-file route)', pause: 'publish-before-move-aside', syscall: 'write,pwrite64', errno: 'ENOSPC', paths: backupChecksumNames },
  { label: 'disk full at publish (the rename)', pause: 'publish-before-rename', syscall: 'rename,renameat,renameat2', errno: 'ENOSPC', paths: (ws) => [path.join(ws.instance, WORK), ws.target] },
];

describe('disk full and I/O errors', () => {
  it.each(cases)('$label: exit 74 naming the path, nothing published, no incomplete backup recorded', async ({ args = [], pause, syscall, errno, paths }) => {
    const ws = workspace({ reports: 300 });
    fs.mkdirSync(ws.backups);
    const sourceHash = sha256(ws.old);
    const child = dbshiftAsync(['migrate', '--json', ...args], { cwd: ws.dir, env: { ...ws.env, DBSHIFT_FAULT: `pause@${pause}` } });
    const finished = collect(child);
    await waitUntilStopped(child.pid!);

    // Computed once: the names depend on the clock.
    const faulty = paths(ws);
    const tracer = spawn('strace', ['-f', '-p', String(child.pid), '-o', '/dev/null', ...faulty.flatMap((p) => ['-P', p]), '-e', `trace=${syscall}`, '-e', `inject=${syscall}:error=${errno}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      tracer.stderr!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('attached')) resolve();
      });
      tracer.on('exit', (code) => reject(new Error(`strace exited ${code}: ${seen}`)));
    });
    process.kill(child.pid!, 'SIGCONT');
    const result = await finished;

    expect(result.code, result.stdout).toBe(74);
    const error = JSON.parse(result.stdout).error as { code: string; message: string };
    expect(error.code).toBe('io-error');
    expect(faulty.some((p) => error.message.includes(p)), error.message).toBe(true);
    // Nothing published, the source untouched, no temp file or lock left.
    expect(fs.existsSync(ws.target)).toBe(false);
    expect(sha256(ws.old)).toBe(sourceHash);
    expect(listDir(ws.instance)).toEqual(['health_records_old.db']);
    expect(listDir(ws.backups).filter((n) => n.includes('.dbshift-tmp'))).toEqual([]);
    // A backup that has a checksum file is complete.
    for (const name of listDir(ws.backups).filter((n) => n.endsWith('.sha256'))) {
      expect(spawnSync('sha256sum', ['-c', name], { cwd: ws.backups }).status).toBe(0);
    }
    // No backup shares the hand copy's inode: it did not become the backup, as nothing was published.
    const inode = fs.statSync(ws.old).ino;
    expect(listDir(ws.backups).filter((n) => n.endsWith('.db')).map((n) => fs.statSync(path.join(ws.backups, n)).ino)).not.toContain(inode);
  });
});

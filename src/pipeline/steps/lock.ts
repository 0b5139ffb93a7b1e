import fs from 'node:fs';
import path from 'node:path';
import { ensureDirectory, TEMP_MARKER } from '../../files/create.js';
import { acquireInstanceLock } from '../../files/lock.js';
import type { Step } from '../run.js';

/**
 * One run at a time per instance directory. Under the lock no other dbshift run is active, so
 * any temp file carrying dbshift's marker is a leftover of an interrupted run: removed, with a notice.
 */
export const lockStep: Step = {
  name: 'lock',
  async run(ctx) {
    if (ctx.options.rehearse) return { status: 'skipped', detail: 'rehearsal: instance/ is not touched' };
    ensureDirectory(ctx.workDir);
    const lock = acquireInstanceLock(ctx.workDir, 'migrate', ctx.now());
    ctx.lock = lock;
    if (lock.tookOverFrom) {
      ctx.notices.push(`Took over a stale lock of pid ${lock.tookOverFrom.pid} (started ${lock.tookOverFrom.startedAt}), which is no longer running.`);
    }
    ensureDirectory(ctx.backupDir);
    for (const dir of [ctx.workDir, ctx.backupDir]) {
      for (const name of fs.readdirSync(dir)) {
        if (!name.includes(TEMP_MARKER)) continue;
        fs.rmSync(path.join(dir, name), { force: true });
        ctx.notices.push(`Removed ${path.join(dir, name)}, left by an interrupted run.`);
      }
    }
    return { status: 'ok', detail: lock.file };
  },
};

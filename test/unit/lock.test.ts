import { describe, expect, it } from 'vitest';
import { acquireInstanceLock, acquireInstanceLockWaiting } from '../../src/files/lock.js';
import { tempDir } from '../support/tmp.js';

describe('the instance lock', () => {
  it('names the holding process, and waits (bounded) for it when asked', async () => {
    const dir = tempDir();
    const first = acquireInstanceLock(dir, 'up', new Date());
    // Refused at once without a wait, naming the process that holds it.
    await expect(acquireInstanceLockWaiting(dir, 'up', () => new Date(), 0)).rejects.toThrow(/the process: .*node/);
    // Waiting: the holder finishes after 200 ms, and the waiter gets the lock.
    setTimeout(() => first.release(), 200);
    const second = await acquireInstanceLockWaiting(dir, 'up', () => new Date(), 5_000);
    expect(second.file).toBe(first.file);
    // A wait that runs out still refuses, saying how long it waited.
    await expect(acquireInstanceLockWaiting(dir, 'up', () => new Date(), 150)).rejects.toThrow(/Waited 150 ms/);
    second.release();
  });
});

describe('taking over a dead run\'s lock', () => {
  it('exactly one of several runs racing for it wins', async () => {
    const { spawn } = await import('node:child_process');
    const fs = await import('node:fs');
    const path = await import('node:path');
    const os = await import('node:os');
    const { ROOT } = await import('../support/cli.js');
    // Every child waits for the same start signal (a file), then tries once; a winner holds the
    // lock until all have tried, so that a late start cannot take a lock released in between.
    const script = `
      const fs = await import('node:fs');
      const { acquireInstanceLock } = await import(${JSON.stringify(path.join(ROOT, 'dist/files/lock.js'))});
      const [dir, go] = process.argv.slice(1);
      while (!fs.existsSync(go)) await new Promise((r) => setTimeout(r, 5));
      try { const lock = acquireInstanceLock(dir, 'up', new Date()); await new Promise((r) => setTimeout(r, 1500)); lock.release(); console.log('won'); }
      catch (error) { console.log(error.code); }`;
    for (let trial = 0; trial < 5; trial++) {
      const dir = tempDir();
      // A lock left by a process that is gone: pid 2^22 + trial is beyond any live pid here.
      fs.writeFileSync(path.join(dir, '.dbshift.lock'), JSON.stringify({ pid: 4_194_304 + trial, host: os.hostname(), startedAt: '2026-01-01T00:00:00Z', command: 'up' }));
      const go = path.join(dir, 'go');
      setTimeout(() => fs.writeFileSync(go, ''), 1500);
      const outcomes = await Promise.all(
        Array.from({ length: 4 }, () =>
          new Promise<string>((resolve) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir, go]);
            let out = '';
            child.stdout.on('data', (d: Buffer) => (out += d.toString()));
            child.on('close', () => resolve(out.trim()));
          }),
        ),
      );
      expect(outcomes.filter((o) => o === 'won'), outcomes.join(',')).toHaveLength(1);
    }
  });
});

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

import { ExitCode } from '../errors.js';

/**
 * While migrations run, the user's code could end the process with a code of its choosing:
 * `process.exit(0)` at a module's top level or in a callback it scheduled, `process.reallyExit`.
 * `dbshift up && deploy` would then deploy on a migration that never committed. Until
 * `release()`, any such exit releases the lock, says what happened and leaves with 65 (the
 * migration's failure); the migration in progress was not committed (SQLite rolls its journal
 * back on the next open). process.exit itself ends in process.reallyExit, so one hook covers both.
 */
// Node's internal last step of process.exit; not in @types/node.
type ExitingProcess = NodeJS.Process & { reallyExit(code?: number): never };

export function guardProcessExit(beforeExit: () => void, database: string): { release(): void } {
  const node = process as ExitingProcess;
  const reallyExit = node.reallyExit;
  node.reallyExit = ((code?: number) => {
    try {
      beforeExit();
      process.stderr.write(
        `dbshift: a migration ended the process (exit ${code ?? 0}) before dbshift finished: the migration in progress was not committed; the lock was released. See where ${database} is: dbshift version\n`,
      );
    } finally {
      reallyExit.call(node, ExitCode.data);
    }
  }) as ExitingProcess['reallyExit'];
  return {
    release() {
      node.reallyExit = reallyExit;
    },
  };
}

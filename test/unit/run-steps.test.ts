import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { InterruptedError } from '../../src/errors.js';
import { createContext } from '../../src/pipeline/context.js';
import { runSteps, type Step } from '../../src/pipeline/run.js';
import { healthRecordsV5 } from '../../src/plans/health-records-v5/index.js';

describe('runSteps after Ctrl-C', () => {
  it('reports what fails once the stop was requested as the interruption (130), keeping the cause', async () => {
    const controller = new AbortController();
    const config = loadConfig({}, {}, '/tmp');
    const ctx = createContext(config, healthRecordsV5, { signal: controller.signal }, { workDir: '/tmp', backupDir: '/tmp' });
    // What a real terminal showed: Ctrl-C during the build, then the work file read back as "not a database".
    const step = {
      name: 'transform',
      async run() {
        controller.abort();
        throw Object.assign(new Error('file is not a database'), { code: 'SQLITE_NOTADB' });
      },
    } as unknown as Step;
    const outcome = await runSteps([step], ctx);
    expect(outcome.error).toBeInstanceOf(InterruptedError);
    expect(outcome.error?.exitCode).toBe(130);
    expect((outcome.error?.cause as Error).message).toBe('file is not a database');
  });
});

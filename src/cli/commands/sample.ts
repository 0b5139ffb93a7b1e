import { InvalidArgumentError, type Command } from 'commander';
import { writeSample } from '../../sample/generate.js';
import { pathArgument } from '../arguments.js';
import { printResult, progressFor, type CliIo } from '../io.js';

/** Used when SECRET_KEY is not set, so the demo runs anywhere. Printed as a notice, never as a value. */
export const DEMO_SECRET_KEY = 'dbshift-demo-key-not-a-secret';

function wholeNumber(value: string): number {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function registerSample(program: Command, io: CliIo): void {
  program
    .command('sample')
    .description('Write a pre-v5 HealthSum database with realistic rows and encrypted columns in the app\'s format.')
    .requiredOption('--out <path>', 'where to write it (must not exist)')
    .option('--reports <n>', 'number of reports (health records: a quarter of that)', wholeNumber, 1000)
    .option('--messy', 'plant NULL, T/Z/offset/epoch/garbage timestamps, records without timestamp and orphaned reports')
    .option('--seed <s>', 'random seed (same seed, same database)', wholeNumber, 1)
    .option('--report-kib <n>', 'approximate size of each report (and health record) text in KiB, before encryption', positiveNumber, 0.5)
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (flags: { out: string; reports: number; messy?: boolean; seed: number; reportKib: number; json?: boolean }) => {
      const secretKey = io.env.SECRET_KEY || DEMO_SECRET_KEY;
      const demoKey = !io.env.SECRET_KEY;
      const notices = demoKey ? ['SECRET_KEY is not set; encrypted with the fixed demo key (migrate needs the same key: the demo sets it).'] : [];
      const progress = await progressFor(io, !!flags.json);
      const started = performance.now();
      const end = (status: 'ok' | 'failed', detail?: string) =>
        progress.listener({ step: 'sample', phase: 'end', result: { name: 'sample', status, ms: Math.round(performance.now() - started), ...(detail ? { detail } : {}) } });
      progress.listener({ step: 'sample', phase: 'start' });
      let result;
      try {
        result = await writeSample(
          {
            out: pathArgument(io, flags.out, '--out'), reports: flags.reports, messy: !!flags.messy, seed: flags.seed, reportKib: flags.reportKib, secretKey,
            onProgress: (done, total) => progress.listener({ step: 'sample', phase: 'progress', done, total, unit: 'rows' }),
          },
          io.signal,
        );
        end('ok', `${Object.values(result.rows).reduce((a, b) => a + b, 0).toLocaleString('en-US')} rows`);
      } catch (error) {
        end('failed');
        throw error;
      } finally {
        progress.stop();
      }
      printResult(io, 'sample', flags.json, { ok: true, command: 'sample', status: 'sampled', notices, demoKey, ...result }, (r) => {
        const lines = [`Wrote ${r.path}`];
        for (const [table, count] of Object.entries(r.rows)) lines.push(`  ${table.padEnd(16)} ${count.toLocaleString('en-US')} rows`);
        const anomalies = Object.entries(r.anomalies);
        if (anomalies.length > 0) {
          lines.push('Planted anomalies');
          for (const [kind, count] of anomalies) lines.push(`  ${kind.padEnd(40)} ${count}`);
          lines.push('Warnings migrate must raise');
          for (const [code, count] of Object.entries(r.expectedWarnings)) lines.push(`  ${code.padEnd(40)} ${count}`);
        }
        for (const notice of r.notices) lines.push(`Notice: ${notice}`);
        return lines.join('\n');
      });
    });
}

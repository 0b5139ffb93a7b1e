import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { generateSample } from '../../sample/generate.js';
import type { CliIo } from '../io.js';

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
    .action((flags: { out: string; reports: number; messy?: boolean; seed: number; reportKib: number; json?: boolean }) => {
      const secretKey = io.env.SECRET_KEY || DEMO_SECRET_KEY;
      const demoKey = !io.env.SECRET_KEY;
      if (demoKey && !flags.json) io.stderr.write('Notice: SECRET_KEY is not set; encrypting with the fixed demo key (migrate needs the same key: the demo sets it).\n');
      const result = generateSample({ out: path.resolve(io.cwd, flags.out), reports: flags.reports, messy: !!flags.messy, seed: flags.seed, reportKib: flags.reportKib, secretKey });
      if (flags.json) {
        io.stdout.write(`${JSON.stringify({ ok: true, status: 'sampled', demoKey, ...result }, null, 2)}\n`);
        return;
      }
      io.stdout.write(`Wrote ${result.path}\n`);
      for (const [table, count] of Object.entries(result.rows)) io.stdout.write(`  ${table.padEnd(16)} ${count.toLocaleString('en-US')} rows\n`);
      const anomalies = Object.entries(result.anomalies);
      if (anomalies.length > 0) {
        io.stdout.write('Planted anomalies\n');
        for (const [kind, count] of anomalies) io.stdout.write(`  ${kind.padEnd(40)} ${count}\n`);
        io.stdout.write('Warnings migrate must raise\n');
        for (const [code, count] of Object.entries(result.expectedWarnings)) io.stdout.write(`  ${code.padEnd(40)} ${count}\n`);
      }
    });
}

import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { cannotCreate, createEmptyExclusive, ensureDirectory, isSymlink, tempPathBeside } from '../files/create.js';
import { publishFile } from '../files/durable.js';
import { symlinkRefused } from '../files/names.js';
import { InterruptedError, toToolError } from '../errors.js';
import { yieldToEventLoop } from '../yield.js';
import { deriveKey, encryptForApp } from '../plans/health-records-v5/index.js';
import { PRE_V5_DDL } from './ddl.js';
import { CANARY_PATIENT_NAME, FIRST_NAMES, LAST_NAMES, WORDS } from './words.js';

// A pre-v5 HealthSum database with realistic rows in every table, deterministic for a seed.
// With `messy`, it plants every anomaly the migration warns about and counts what it planted,
// by construction, so tests can hold the migration's warnings against these numbers.

export interface SampleOptions {
  out: string;
  reports: number;
  messy: boolean;
  seed: number;
  /** Approximate size of each report's content before encryption, in KiB (default 0.5). */
  reportKib?: number;
  secretKey: string;
  onProgress?: (doneRows: number, totalRows: number) => void;
}

export interface SampleResult {
  path: string;
  rows: Record<string, number>;
  /** Planted anomalies, by kind. */
  anomalies: Record<string, number>;
  /** The warnings `dbshift migrate` must raise on this database: `code` or `code/table` → count. */
  expectedWarnings: Record<string, number>;
}

type TimestampKind =
  | 'canonical' | 'null' | 't-separator' | 'zulu' | 'offset' | 'offset-no-colon' | 'no-fraction'
  | 'nanoseconds' | 'date-only' | 'epoch-seconds' | 'epoch-milliseconds' | 'epoch-real' | 'empty' | 'garbage';

const MESSY_RECORD_KINDS: TimestampKind[] = [
  'null', 't-separator', 'zulu', 'offset', 'offset-no-colon', 'no-fraction', 'nanoseconds', 'date-only',
  'epoch-seconds', 'epoch-milliseconds', 'garbage', 'empty',
];
const MESSY_REPORT_KINDS: TimestampKind[] = [
  'null', 't-separator', 'zulu', 'offset', 'epoch-seconds', 'epoch-milliseconds', 'epoch-real', 'garbage', 'empty', 'date-only',
];
const UNUSABLE = new Set<TimestampKind>(['null', 'empty', 'garbage']);
const UNPARSEABLE = new Set<TimestampKind>(['empty', 'garbage']);
const GARBAGE = ['n/a', 'gestern', '31.12.2023 14:00', '2023-13-45 25:61:00', 'not a date', '2024-02-30 10:00:00'];

/** mulberry32: tiny, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rows per transaction: between two, writeSample lets Ctrl-C and progress through. */
const CHUNK_ROWS = 5_000;

/** Write the sample in one go (tests, the benchmark): no progress, no pauses. */
export function generateSample(options: SampleOptions): SampleResult {
  const chunks = sampleChunks(options);
  for (;;) {
    const next = chunks.next();
    if (next.done) return next.value;
  }
}

/**
 * Write the sample in chunks, reporting progress and stopping at the next chunk on abort.
 * It is written under a marked temp name beside `out` and renamed at the end, so an
 * interrupted run leaves no partial file at `out` (and a killed one's leftover is removed by the next).
 */
export async function writeSample(options: SampleOptions, signal?: AbortSignal): Promise<SampleResult> {
  const chunks = sampleChunks(options);
  try {
    for (;;) {
      const next = chunks.next();
      if (next.done) return next.value;
      options.onProgress?.(next.value.done, next.value.total);
      await yieldToEventLoop();
      if (signal?.aborted) {
        throw new InterruptedError('interrupted', 'Interrupted: no sample was written.', {
          hint: 'Run the same command again when ready.',
          dataState: `Nothing was written at ${path.resolve(options.out)}; the partial file was removed.`,
        });
      }
    }
  } finally {
    // Runs the generator's own cleanup (close, remove the temp file) when it did not finish.
    chunks.return(undefined as never);
  }
}

function* sampleChunks(options: SampleOptions): Generator<{ done: number; total: number }, SampleResult> {
  const random = prng(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const key = deriveKey(options.secretKey);
  const encrypt = (text: string) => encryptForApp(key, text);
  const sentence = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
  // Long documents are a random opening followed by filler, so large samples stay quick to write.
  const reportBytes = Math.max(16, Math.round((options.reportKib ?? 0.5) * 1024));
  const filler = sentence(400).repeat(Math.ceil(reportBytes / 2000) + 1);
  const document = () => {
    const opening = sentence(40);
    return opening.length >= reportBytes ? opening.slice(0, reportBytes) : opening + ' ' + filler.slice(0, reportBytes - opening.length - 1);
  };

  const reportCount = Math.max(0, Math.floor(options.reports));
  const recordCount = Math.max(1, Math.ceil(reportCount / 4));
  const userCount = Math.max(2, Math.ceil(recordCount / 50));
  const templateCount = 5;
  const base = Date.UTC(2023, 0, 1);
  const span = 730 * 86_400_000;

  const out = path.resolve(options.out);
  ensureDirectory(path.dirname(out));
  if (fs.existsSync(out) || isSymlink(out)) throw cannotCreate(out, Object.assign(new Error('file exists'), { code: 'EEXIST' }));
  const temp = tempPathBeside(out, 'sample');
  // Only a killed earlier run of this same command leaves a file by this name.
  if (isSymlink(temp)) throw symlinkRefused(temp);
  fs.rmSync(temp, { force: true });
  createEmptyExclusive(temp);
  let db: Database.Database | undefined;
  let finished = false;
  try {
    db = new Database(temp);
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    // better-sqlite3 enforces foreign keys by default; the app's SQLite does not, which is how
    // real databases came to hold orphaned reports.
    db.pragma('foreign_keys = OFF');
    db.exec(PRE_V5_DDL);

    const anomalies: Record<string, number> = {};
    const plant = (kind: string) => (anomalies[kind] = (anomalies[kind] ?? 0) + 1);
    // Anomalies are spread evenly so that every kind shows up even in small samples.
    const period = (n: number, kinds: number) => Math.max(2, Math.min(40, Math.floor(n / (kinds * 2))));
    const recordPeriod = period(recordCount, MESSY_RECORD_KINDS.length);
    const reportPeriod = period(reportCount, MESSY_REPORT_KINDS.length + 2);

    const insertUser = db.prepare(
      `INSERT INTO user (id, vorname, nachname, username, email, password_hash, level, is_active) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertTemplate = db.prepare(
      `INSERT INTO report_template (id, template_name, output_format, example_structure, system_prompt, prompt, summarizer, created_at, last_updated, use_custom_instructions, system_pdf_filename)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertRecord = db.prepare(
      `INSERT INTO health_record (id, timestamp, text, filenames, token_count, patient_name, birth_date, medical_history_begin, medical_history_end, create_reports, expiration_date, user_id, custom_instructions)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertReport = db.prepare(
      `INSERT INTO report (id, health_record_id, report_template_id, content, report_type, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    const insertTask = db.prepare(
      `INSERT INTO task_monitor (id, created_at, health_record_id, health_record_token_count, start_date, end_date, notification_sent) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertCode = db.prepare(
      `INSERT INTO medical_code (id, health_record_id, code, code_type, description, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );

    const totalRows = userCount + templateCount + recordCount * 2.5 + reportCount;
    let doneRows = 0;
    const tick = () => {
      doneRows += 1;
    };
    const instant = () => base + Math.floor(random() * span);

    const rowsWritten = (function* () {
      for (let id = 1; id <= userCount; id++) {
        const first = pick(FIRST_NAMES);
        const last = pick(LAST_NAMES);
        insertUser.run(id, first, last, `${first.toLowerCase()}.${last.toLowerCase()}${id}`, `${first.toLowerCase()}.${id}@praxis.example`, `pbkdf2:sha256:600000$${id}$${(random() * 1e16).toString(16)}`, pick(['admin', 'user', 'user', 'user']), id % 17 === 0 ? 0 : 1);
        yield tick();
      }
      for (let id = 1; id <= templateCount; id++) {
        const created = canonical(instant());
        insertTemplate.run(id, `Template ${id}: ${sentence(2)}`, pick(['pdf', 'docx']), Buffer.from(encrypt(sentence(12)), 'latin1'), Buffer.from(encrypt(sentence(20)), 'latin1'), Buffer.from(encrypt(sentence(30)), 'latin1'), id % 2, created, created, id % 3 === 0 ? 1 : 0, id % 2 ? `template_${id}.pdf` : null);
        yield tick();
      }

      const recordKinds: TimestampKind[] = [];
      const unusableRecords: number[] = [];
      for (let id = 1; id <= recordCount; id++) {
        const at = instant();
        const kind: TimestampKind = options.messy && id % recordPeriod === 0 ? (MESSY_RECORD_KINDS[(id / recordPeriod - 1) % MESSY_RECORD_KINDS.length] as TimestampKind) : 'canonical';
        recordKinds[id] = kind;
        if (kind !== 'canonical') plant(`health_record.timestamp:${kind}`);
        if (UNUSABLE.has(kind)) unusableRecords.push(id);
        // A few patients carry the canary name: tests prove it never leaks into any output.
        const patient = id % 97 === 1 ? CANARY_PATIENT_NAME : `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`;
        insertRecord.run(
          id, timestampOf(kind, at, random), encrypt(document()), encrypt(JSON.stringify([`scan_${id}.pdf`])), 200 + Math.floor(random() * 4000),
          Buffer.from(encrypt(patient), 'latin1'), encrypt(`19${10 + Math.floor(random() * 89)}-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 9)}`),
          canonical(at - 400 * 86_400_000), canonical(at - 10 * 86_400_000), 1, canonical(at + 3650 * 86_400_000), 1 + (id % userCount),
          id % 3 === 0 ? encrypt(sentence(8)) : null,
        );
        yield tick();
      }

      const expected = { unparseableRecords: 0, unparseableReports: 0, orphans: 0, fromRecord: 0, fromRun: 0 };
      for (const kind of recordKinds) if (kind && UNPARSEABLE.has(kind)) expected.unparseableRecords++;
      for (let id = 1; id <= reportCount; id++) {
        let recordId = 1 + ((id - 1) % recordCount);
        let kind: TimestampKind = 'canonical';
        if (options.messy && id % reportPeriod === 0) {
          const slot = (id / reportPeriod - 1) % (MESSY_REPORT_KINDS.length + 2);
          if (slot === MESSY_REPORT_KINDS.length) {
            // An orphan: its health record does not exist.
            recordId = recordCount + 1_000 + id;
            plant('report.orphaned');
          } else if (slot === MESSY_REPORT_KINDS.length + 1 && unusableRecords.length > 0) {
            // No usable date anywhere: the identifier falls back to the run's date.
            recordId = unusableRecords[id % unusableRecords.length] as number;
            kind = 'null';
          } else {
            kind = MESSY_REPORT_KINDS[slot % MESSY_REPORT_KINDS.length] as TimestampKind;
          }
        }
        if (kind !== 'canonical') plant(`report.created_at:${kind}`);
        const orphan = recordId > recordCount;
        if (orphan) expected.orphans++;
        if (UNPARSEABLE.has(kind)) expected.unparseableReports++;
        if (!orphan && UNUSABLE.has(kind)) {
          if (UNUSABLE.has(recordKinds[recordId] as TimestampKind)) expected.fromRun++;
          else expected.fromRecord++;
        }
        insertReport.run(id, recordId, 1 + (id % templateCount), Buffer.from(encrypt(document()), 'latin1'), pick(['summary', 'discharge', 'referral']), timestampOf(kind, instant(), random));
        yield tick();
      }
      for (let id = 1; id <= Math.ceil(recordCount / 2); id++) {
        const at = instant();
        insertTask.run(id, canonical(at), 1 + ((id * 2 - 1) % recordCount), 1000, canonical(at), canonical(at + 60_000), 1);
        yield tick();
      }
      for (let id = 1; id <= recordCount; id++) {
        insertCode.run(id, id, encrypt(`${pick(['I10', 'E11.9', 'J45.0', 'M54.5', 'F32.1'])}`), 'ICD10', encrypt(sentence(6)), canonical(instant()));
        yield tick();
      }

      const warnings: Record<string, number> = {
        'unparseable-timestamp/health_record': expected.unparseableRecords,
        'unparseable-timestamp/report': expected.unparseableReports,
        'orphaned-report/report': expected.orphans,
        'identifier-date-from-record/report': expected.fromRecord,
        'identifier-date-from-run/report': expected.fromRun,
        'foreign-key-violation/report': expected.orphans,
      };
      return { anomalies, expectedWarnings: Object.fromEntries(Object.entries(warnings).filter(([, n]) => n > 0)) };
    })();
    let planted: { anomalies: Record<string, number>; expectedWarnings: Record<string, number> } | undefined;
    const writeChunk = db.transaction(() => {
      for (let i = 0; i < CHUNK_ROWS; i++) {
        const next = rowsWritten.next();
        if (next.done) {
          planted = next.value;
          return;
        }
      }
    });
    while (!planted) {
      writeChunk();
      yield { done: doneRows, total: totalRows };
    }
    db.pragma('journal_mode = DELETE');
    const rows: Record<string, number> = {};
    for (const table of ['user', 'report_template', 'health_record', 'report', 'task_monitor', 'medical_code']) {
      rows[table] = (db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;
    }
    db.close();
    db = undefined;
    publishFile(temp, out, 'new-name');
    finished = true;
    options.onProgress?.(totalRows, totalRows);
    return { path: out, rows, anomalies: planted.anomalies, expectedWarnings: planted.expectedWarnings };
  } catch (error) {
    throw toToolError(error, out);
  } finally {
    db?.close();
    if (!finished) fs.rmSync(temp, { force: true });
    key.fill(0);
  }
}

/** What the app writes: datetime.utcnow() as `YYYY-MM-DD HH:MM:SS.ffffff`. */
function canonical(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23).replace('T', ' ')}000`;
}

function timestampOf(kind: TimestampKind, ms: number, random: () => number): string | number | null {
  const iso = new Date(ms).toISOString(); // 2023-04-05T06:07:08.123Z
  switch (kind) {
    case 'canonical':
      return canonical(ms);
    case 'null':
      return null;
    case 't-separator':
      return iso.replace('Z', '456');
    case 'zulu':
      return iso;
    case 'offset':
      return `${iso.slice(0, 19)}+02:00`;
    case 'offset-no-colon':
      return `${iso.slice(0, 19)}-0530`;
    case 'no-fraction':
      return iso.slice(0, 19).replace('T', ' ');
    case 'nanoseconds':
      return `${iso.slice(0, 19).replace('T', ' ')}.123456789`;
    case 'date-only':
      return iso.slice(0, 10);
    case 'epoch-seconds':
      return Math.floor(ms / 1000);
    case 'epoch-milliseconds':
      return ms;
    case 'epoch-real':
      return ms / 1000 + 0.25;
    case 'empty':
      return '';
    case 'garbage':
      return GARBAGE[Math.floor(random() * GARBAGE.length)] as string;
  }
}

// Normalising the timestamps that real HealthSum databases hold into the one form the app's
// SQLAlchemy can read back from a DATETIME column: naive UTC `YYYY-MM-DD HH:MM:SS.ffffff`.
// Pure functions; registered as SQL functions so the backfill stays set-based.

/** Returns the canonical UTC form, or null for NULL and for anything unparseable. */
export function normalizeTimestamp(value: unknown): string | null {
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value === 'bigint') return fromEpoch(Number(value));
  if (typeof value === 'string') return fromText(value);
  // NULL stays NULL; a BLOB is never a timestamp.
  return null;
}

/** True when the value is not NULL but cannot be normalised (warning `unparseable-timestamp`). */
export function isUnparseableTimestamp(value: unknown): boolean {
  return value !== null && value !== undefined && normalizeTimestamp(value) === null;
}

/** `YYYYMMDD` of a canonical timestamp, as used in report.unique_identifier. */
export function compactDate(canonical: string): string {
  return canonical.slice(0, 10).replaceAll('-', '');
}

// SQLite INTEGER or REAL: unix epoch seconds, or milliseconds when the magnitude says so.
const MILLISECONDS_THRESHOLD = 1e11;

function fromEpoch(value: number): string | null {
  if (!Number.isFinite(value)) return null;
  const unitsPerSecond = Math.abs(value) > MILLISECONDS_THRESHOLD ? 1_000 : 1;
  // Whole seconds and the microseconds apart: their product would exceed 2^53 and lose digits.
  const seconds = Math.floor(value / unitsPerSecond);
  const micro = Math.round((value - seconds * unitsPerSecond) * (1_000_000 / unitsPerSecond));
  return micro >= 1_000_000 ? format(seconds + 1, micro - 1_000_000) : format(seconds, micro);
}

const TEXT_FORM =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{0,9}))?(?:(Z)|([+-])(\d{2}):?(\d{2}))?)?$/;

// Most stored values already have the canonical form: recognised without the general parse.
const CANONICAL = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.\d{6}$/;

function fromText(text: string): string | null {
  const c = text.length === 26 ? CANONICAL.exec(text) : null;
  if (c) {
    const [, y, mo, d, h, mi, s] = c.map(Number) as number[];
    const valid = (y as number) >= 1 && (mo as number) >= 1 && (mo as number) <= 12 && (d as number) >= 1 && (d as number) <= daysInMonth(y as number, mo as number) && (h as number) <= 23 && (mi as number) <= 59 && (s as number) <= 59;
    return valid ? text : null;
  }
  const m = TEXT_FORM.exec(text);
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', , sign, offH = '0', offM = '0'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const offsetMinutes = Number(offH) * 60 + Number(offM);
  if (Number(offH) > 23 || Number(offM) > 59) return null;
  // Truncate (never round) to microseconds, as the spec asks.
  const micro = Number(fraction.slice(0, 6).padEnd(6, '0'));
  const localSeconds = daysFromCivil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
  const utcSeconds = localSeconds - (sign === '-' ? -offsetMinutes : sign === '+' ? offsetMinutes : 0) * 60;
  return format(utcSeconds, micro);
}

/** `seconds` since the epoch (whole) plus `micro` (0…999999) as the canonical form. */
function format(seconds: number, micro: number): string | null {
  const days = Math.floor(seconds / 86_400);
  const secondOfDay = seconds - days * 86_400;
  const { year, month, day } = civilFromDays(days);
  // Outside 0001…9999 the app's datetime cannot hold it.
  if (year < 1 || year > 9999) return null;
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    `${pad(year, 4)}-${pad(month)}-${pad(day)} ` +
    `${pad(Math.floor(secondOfDay / 3_600))}:${pad(Math.floor((secondOfDay % 3_600) / 60))}:${pad(secondOfDay % 60)}.${pad(micro, 6)}`
  );
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] as number;
}

// Proleptic Gregorian calendar arithmetic (H. Hinnant's algorithms), exact for every year,
// unlike Date.UTC, which maps years 0–99 to 1900–1999.
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1_460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

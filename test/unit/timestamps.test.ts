import { describe, expect, it } from 'vitest';
import { compactDate, isUnparseableTimestamp, normalizeTimestamp } from '../../src/plans/health-records-v5/timestamps.js';

// shared/spec/health-records-v5.md, "Normalised timestamp": the result is always the canonical
// naive-UTC form `YYYY-MM-DD HH:MM:SS.ffffff`, or null.

describe('normalizeTimestamp: accepted text forms', () => {
  it.each([
    // canonical passthrough
    ['2023-05-06 07:08:09.123456', '2023-05-06 07:08:09.123456'],
    ['2023-12-31 23:59:59.999999', '2023-12-31 23:59:59.999999'],
    // T separator
    ['2023-05-06T07:08:09.123456', '2023-05-06 07:08:09.123456'],
    ['2023-05-06T07:08:09', '2023-05-06 07:08:09.000000'],
    // fractions of 0 to 9 digits, truncated (never rounded) to microseconds
    ['2023-05-06 12:00:00', '2023-05-06 12:00:00.000000'],
    ['2023-05-06 12:00:00.', '2023-05-06 12:00:00.000000'],
    ['2023-05-06 12:00:00.1', '2023-05-06 12:00:00.100000'],
    ['2023-05-06 12:00:00.123', '2023-05-06 12:00:00.123000'],
    ['2023-05-06 12:00:00.000001', '2023-05-06 12:00:00.000001'],
    ['2023-05-06 12:00:00.1234567', '2023-05-06 12:00:00.123456'],
    ['2023-05-06 12:00:00.9999999', '2023-05-06 12:00:00.999999'],
    ['2023-05-06 12:00:00.123456789', '2023-05-06 12:00:00.123456'],
    ['2023-05-06 12:00:00.999999999', '2023-05-06 12:00:00.999999'],
    ['2023-12-31 23:59:59.9999999', '2023-12-31 23:59:59.999999'],
    // Z
    ['2023-05-06T07:08:09Z', '2023-05-06 07:08:09.000000'],
    ['2023-05-06T07:08:09.123Z', '2023-05-06 07:08:09.123000'],
    ['2023-05-06 07:08:09.123456789Z', '2023-05-06 07:08:09.123456'],
    // offsets, with and without colon, converted to UTC
    ['2023-05-06 07:08:09+02:00', '2023-05-06 05:08:09.000000'],
    ['2023-05-06 07:08:09+0200', '2023-05-06 05:08:09.000000'],
    ['2023-05-06T07:08:09-05:30', '2023-05-06 12:38:09.000000'],
    ['2023-05-06T07:08:09-0530', '2023-05-06 12:38:09.000000'],
    ['2023-05-06T07:08:09+00:00', '2023-05-06 07:08:09.000000'],
    ['2023-05-06T07:08:09.1234567+02:00', '2023-05-06 05:08:09.123456'],
    ['2023-05-06T07:08:09.5-0530', '2023-05-06 12:38:09.500000'],
    // offsets crossing day, month and year boundaries
    ['2024-01-01 01:00:00+02:00', '2023-12-31 23:00:00.000000'],
    ['2024-01-01 01:00:00+0200', '2023-12-31 23:00:00.000000'],
    ['2023-12-31 22:00:00-03:00', '2024-01-01 01:00:00.000000'],
    ['2023-12-31 22:00:00-0300', '2024-01-01 01:00:00.000000'],
    ['2023-04-30T23:45:00.123-00:30', '2023-05-01 00:15:00.123000'],
    ['2023-06-15 00:10:00+05:30', '2023-06-14 18:40:00.000000'],
    ['2024-03-01 00:30:00+01:00', '2024-02-29 23:30:00.000000'],
    ['2023-03-01 00:30:00+01:00', '2023-02-28 23:30:00.000000'],
    ['2024-02-28 23:30:00-01:00', '2024-02-29 00:30:00.000000'],
    ['2023-02-28 23:30:00-01:00', '2023-03-01 00:30:00.000000'],
    // leap days
    ['2024-02-29 12:00:00', '2024-02-29 12:00:00.000000'],
    ['2000-02-29 12:00:00', '2000-02-29 12:00:00.000000'],
    ['2024-02-29', '2024-02-29 00:00:00.000000'],
    // date alone: midnight
    ['2023-05-06', '2023-05-06 00:00:00.000000'],
    ['2023-12-31', '2023-12-31 00:00:00.000000'],
    // the edges of the representable range
    ['0001-01-01 00:00:00', '0001-01-01 00:00:00.000000'],
    ['0001-01-01', '0001-01-01 00:00:00.000000'],
    ['0001-01-01 00:30:00-01:00', '0001-01-01 01:30:00.000000'],
    ['9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999'],
    ['9999-12-31 23:30:00+01:00', '9999-12-31 22:30:00.000000'],
    // microseconds must stay exact for every year, not only those near 1970
    ['0001-01-01 00:00:00.000001', '0001-01-01 00:00:00.000001'],
    ['1000-01-01 00:00:00.000001', '1000-01-01 00:00:00.000001'],
    ['2300-01-01 00:00:00.000001', '2300-01-01 00:00:00.000001'],
    ['2500-06-15 12:34:56.123457', '2500-06-15 12:34:56.123457'],
    ['9999-12-31 23:59:59.999990', '9999-12-31 23:59:59.999990'],
  ])('%j -> %j', (input, expected) => {
    expect(normalizeTimestamp(input)).toBe(expected);
    expect(isUnparseableTimestamp(input)).toBe(false);
  });
});

describe('normalizeTimestamp: numbers are unix epochs (seconds, or milliseconds above 1e11)', () => {
  it.each<[string, number | bigint, string]>([
    ['zero', 0, '1970-01-01 00:00:00.000000'],
    ['integer seconds', 1_700_000_000, '2023-11-14 22:13:20.000000'],
    ['fractional seconds', 1_700_000_000.5, '2023-11-14 22:13:20.500000'],
    ['quarter seconds', 1_700_000_000.25, '2023-11-14 22:13:20.250000'],
    ['one microsecond', 0.000001, '1970-01-01 00:00:00.000001'],
    ['exactly 1e11 is still seconds', 1e11, '5138-11-16 09:46:40.000000'],
    ['just above 1e11 is milliseconds', 1e11 + 1, '1973-03-03 09:46:40.001000'],
    ['milliseconds', 1_700_000_000_123, '2023-11-14 22:13:20.123000'],
    ['fractional milliseconds', 1_700_000_000_123.5, '2023-11-14 22:13:20.123500'],
    ['negative seconds', -1, '1969-12-31 23:59:59.000000'],
    ['negative fractional seconds', -1.5, '1969-12-31 23:59:58.500000'],
    ['negative fractional seconds, a day back', -86_400.5, '1969-12-30 23:59:59.500000'],
    ['negative milliseconds', -1_700_000_000_000, '1916-02-18 01:46:40.000000'],
    ['first second of year 1', -62_135_596_800, '0001-01-01 00:00:00.000000'],
    ['first millisecond of year 1', -62_135_596_800_000, '0001-01-01 00:00:00.000000'],
    ['last millisecond of year 9999', 253_402_300_799_999, '9999-12-31 23:59:59.999000'],
    ['bigint seconds', 1_700_000_000n, '2023-11-14 22:13:20.000000'],
    ['bigint milliseconds', 1_700_000_000_123n, '2023-11-14 22:13:20.123000'],
    ['negative bigint', -1n, '1969-12-31 23:59:59.000000'],
  ])('%s: %s', (_label, input, expected) => {
    expect(normalizeTimestamp(input)).toBe(expected);
    expect(isUnparseableTimestamp(input)).toBe(false);
  });
});

describe('normalizeTimestamp: NULL stays NULL and is not unparseable', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
  ])('%s', (_label, input) => {
    expect(normalizeTimestamp(input)).toBeNull();
    expect(isUnparseableTimestamp(input)).toBe(false);
  });
});

describe('normalizeTimestamp: anything else is unparseable', () => {
  it.each<[string, unknown]>([
    ['empty string', ''],
    ['garbage', 'not a date'],
    ['German word', 'gestern'],
    ['German date format', '31.12.2023 14:00'],
    ['n/a', 'n/a'],
    ['month 13', '2023-13-01'],
    ['month 00', '2023-00-10'],
    ['day 32', '2023-01-32'],
    ['day 00', '2023-01-00'],
    ['April 31', '2023-04-31'],
    ['2023-02-29 (not a leap year)', '2023-02-29'],
    ['2023-02-29 with a time', '2023-02-29 12:00:00'],
    ['1900-02-29 (century, not a leap year)', '1900-02-29'],
    ['February 30', '2024-02-30 10:00:00'],
    ['hour 24', '2023-01-01 24:00:00'],
    ['hour 25', '2023-01-01 25:00:00'],
    ['minute 60', '2023-01-01 12:60:00'],
    ['second 60', '2023-01-01 12:00:60'],
    ['everything out of range', '2023-13-45 25:61:00'],
    ['time without seconds', '2023-01-01 12:00'],
    ['time without seconds, T', '2023-01-01T12:00'],
    ['hour only', '2023-01-01 12'],
    ['T without time', '2023-01-01T'],
    ['leading whitespace', ' 2023-01-01 12:00:00'],
    ['trailing whitespace', '2023-01-01 12:00:00 '],
    ['trailing newline', '2023-01-01 12:00:00\n'],
    ['leading tab, date only', '\t2023-01-01'],
    ['ten fraction digits', '2023-01-01 12:00:00.1234567890'],
    ['slashes', '2023/01/01 12:00:00'],
    ['single-digit month and day', '2023-1-1'],
    ['two-digit year', '23-01-01'],
    ['hour-only offset', '2023-01-01 12:00:00+02'],
    ['digits as text', '1700000000'],
    ['fractional digits as text', '1700000000.5'],
    ['millisecond digits as text', '1700000000123'],
    ['Buffer holding a canonical timestamp', Buffer.from('2023-01-01 12:00:00.000000')],
    ['empty Buffer', Buffer.alloc(0)],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])('%s', (_label, input) => {
    expect(normalizeTimestamp(input)).toBeNull();
    expect(isUnparseableTimestamp(input)).toBe(true);
  });
});

describe('normalizeTimestamp: results outside years 1..9999 are null', () => {
  it.each<[string, unknown]>([
    ['year 0000', '0000-12-31 23:59:59'],
    ['year 0000 date only', '0000-01-01'],
    ['year 1 shifted into year 0 by an offset', '0001-01-01 00:30:00+01:00'],
    ['year 1 shifted into year 0 by +0100', '0001-01-01 00:59:59.999999+0100'],
    ['year 9999 shifted into year 10000 by an offset', '9999-12-31 23:30:00-01:00'],
    ['epoch second before year 1', -62_135_596_801],
    ['epoch millisecond before year 1', -62_135_596_800_001],
    ['epoch millisecond in year 10000', 253_402_300_800_000],
    ['huge epoch', 1e20],
    ['huge negative epoch', -1e20],
  ])('%s', (_label, input) => {
    expect(normalizeTimestamp(input)).toBeNull();
    expect(isUnparseableTimestamp(input)).toBe(true);
  });
});

describe('compactDate', () => {
  it.each([
    ['2023-05-06 07:08:09.123456', '20230506'],
    ['2023-12-31 23:00:00.000000', '20231231'],
    ['2024-02-29 00:00:00.000000', '20240229'],
    ['0001-01-01 00:00:00.000000', '00010101'],
    ['9999-12-31 23:59:59.999999', '99991231'],
  ])('%s -> %s', (canonical, expected) => {
    expect(compactDate(canonical)).toBe(expected);
  });

  it.each([
    // The identifier's date is the UTC date, so an offset can move it to the previous day.
    ['2024-01-01 01:00:00+02:00', '20231231'],
    ['2023-12-31 22:00:00-0300', '20240101'],
    ['2023-05-06', '20230506'],
  ])('of the normalised %s is %s', (input, expected) => {
    const canonical = normalizeTimestamp(input);
    expect(canonical).not.toBeNull();
    expect(compactDate(canonical as string)).toBe(expected);
  });
});

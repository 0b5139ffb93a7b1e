import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveKey, encryptForApp, opensWithKey } from '../../src/plans/health-records-v5/crypto.js';
import { checkSecretKey } from '../../src/plans/health-records-v5/keycheck.js';
import { generateSample } from '../../src/sample/generate.js';
import { tempDir } from '../support/tmp.js';

const SECRET = 'test-secret-key-Ω-42';
const WRONG_SECRET = 'not-the-secret-key';

/** The sqlalchemy_utils AesEngine 'pkcs5' key, derived independently of the code under test. */
function appKey(secret: string): Buffer {
  return crypto.createHash('sha256').update(Buffer.from(secret, 'utf8')).digest();
}

function decryptIndependently(secret: string, stored: string): Buffer {
  const key = appKey(secret);
  const decipher = crypto.createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  return Buffer.concat([decipher.update(Buffer.from(stored, 'base64')), decipher.final()]);
}

/** Encrypt raw bytes with the app's key and IV, padding by hand (PKCS#7) so invalid UTF-8 can be made. */
function encryptRawPadded(secret: string, plaintext: Buffer): string {
  const key = appKey(secret);
  const pad = 16 - (plaintext.length % 16);
  const padded = Buffer.concat([plaintext, Buffer.alloc(pad, pad)]);
  const cipher = crypto.createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

describe('deriveKey', () => {
  it('is SHA-256 of the secret as UTF-8 (32 bytes)', () => {
    const key = deriveKey(SECRET);
    expect(key.length).toBe(32);
    expect(key.equals(appKey(SECRET))).toBe(true);
    // the non-ASCII Ω must be hashed as UTF-8, not latin1
    expect(key.equals(crypto.createHash('sha256').update(Buffer.from(SECRET, 'latin1')).digest())).toBe(false);
  });
});

describe('encryptForApp: sqlalchemy_utils AesEngine pkcs5 format', () => {
  it.each([
    ['empty', ''],
    ['short ASCII', 'Befund unauffällig'],
    ['exactly one block', '0123456789abcdef'],
    ['15 bytes', '0123456789abcde'],
    ['17 bytes', '0123456789abcdef0'],
    ['multi-byte UTF-8', 'Ärztin: 血圧 ↑ 🩺'],
    ['JSON list of filenames', '["scan_1.pdf"]'],
  ])('%s round-trips through an independent AES-256-CBC decryption', (_label, plaintext) => {
    const stored = encryptForApp(deriveKey(SECRET), plaintext);
    expect(stored).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
    const ciphertext = Buffer.from(stored, 'base64');
    expect(ciphertext.toString('base64')).toBe(stored);
    // PKCS#7 always pads, so a full block gains a whole block of padding.
    const plainBytes = Buffer.byteLength(plaintext, 'utf8');
    expect(ciphertext.length).toBe((Math.floor(plainBytes / 16) + 1) * 16);
    expect(decryptIndependently(SECRET, stored).toString('utf8')).toBe(plaintext);
  });

  it('uses PKCS#7 padding bytes and IV = first 16 bytes of the key', () => {
    const stored = encryptForApp(deriveKey(SECRET), '0123456789abcdef');
    const key = appKey(SECRET);
    const decipher = crypto.createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    decipher.setAutoPadding(false);
    const raw = Buffer.concat([decipher.update(Buffer.from(stored, 'base64')), decipher.final()]);
    expect(raw.subarray(0, 16).toString('utf8')).toBe('0123456789abcdef');
    expect([...raw.subarray(16)]).toEqual(Array(16).fill(16));
  });

  it('matches an independent encryption byte for byte (deterministic: the IV is fixed)', () => {
    const key = appKey(SECRET);
    const cipher = crypto.createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
    const expected = Buffer.concat([cipher.update('Patient berichtet', 'utf8'), cipher.final()]).toString('base64');
    expect(encryptForApp(deriveKey(SECRET), 'Patient berichtet')).toBe(expected);
    expect(encryptForApp(deriveKey(SECRET), 'Patient berichtet')).toBe(expected);
  });

  it('does not decrypt under another key', () => {
    const stored = encryptForApp(deriveKey(SECRET), 'Patient berichtet über Kopfschmerzen');
    expect(() => decryptIndependently(WRONG_SECRET, stored).toString('utf8')).toThrow();
  });
});

describe('opensWithKey', () => {
  const key = deriveKey(SECRET);
  const stored = encryptForApp(key, 'Blutdruck erhöht, Therapie empfohlen');

  it.each<[string, () => string | Buffer, boolean]>([
    ['right key, TEXT storage', () => stored, true],
    ['right key, BLOB storage', () => Buffer.from(stored, 'latin1'), true],
    ['right key, empty plaintext', () => encryptForApp(key, ''), true],
    ['right key, multi-byte plaintext', () => encryptForApp(key, 'Müller 🩺'), true],
    ['right key, hand-padded valid UTF-8', () => encryptRawPadded(SECRET, Buffer.from('Röntgen', 'utf8')), true],
    ['wrong key', () => encryptForApp(deriveKey(WRONG_SECRET), 'Blutdruck erhöht, Therapie empfohlen'), false],
    ['wrong key, BLOB storage', () => Buffer.from(encryptForApp(deriveKey(WRONG_SECRET), 'Labor Werte'), 'latin1'), false],
    ['not base64', () => 'this is not base64!', false],
    ['plaintext stored unencrypted', () => 'Patient berichtet über Kopfschmerzen', false],
    ['empty string', () => '', false],
    ['empty Buffer', () => Buffer.alloc(0), false],
    ['base64 of 10 bytes (not a multiple of 16)', () => Buffer.alloc(10, 7).toString('base64'), false],
    ['base64 of 24 bytes (not a multiple of 16)', () => Buffer.concat([Buffer.from(stored, 'base64'), Buffer.alloc(8)]).toString('base64'), false],
    ['truncated ciphertext (one block short)', () => Buffer.from(stored, 'base64').subarray(16).toString('base64'), false],
    ['valid padding but invalid UTF-8', () => encryptRawPadded(SECRET, Buffer.from([0x41, 0xff, 0xfe, 0x42])), false],
    ['valid padding but a lone continuation byte', () => encryptRawPadded(SECRET, Buffer.from([0x80])), false],
    ['valid padding but truncated multi-byte sequence', () => encryptRawPadded(SECRET, Buffer.from([0x48, 0xc3])), false],
  ])('%s -> %s', (_label, value, expected) => {
    expect(opensWithKey(key, value())).toBe(expected);
  });

  it('rejects a last block whose padding bytes are inconsistent', () => {
    const k = appKey(SECRET);
    // 14 data bytes, then 0x02 0x03: a last byte of 3 demands three 0x03 bytes.
    const block = Buffer.concat([Buffer.from('abcdefghijklmn'), Buffer.from([0x02, 0x03])]);
    const cipher = crypto.createCipheriv('aes-256-cbc', k, k.subarray(0, 16));
    cipher.setAutoPadding(false);
    const bad = Buffer.concat([cipher.update(block), cipher.final()]).toString('base64');
    expect(opensWithKey(key, bad)).toBe(false);
  });
});

describe('checkSecretKey on a sample database', () => {
  function sample(): string {
    const out = path.join(tempDir(), 'health_records.db');
    generateSample({ out, reports: 200, messy: false, seed: 1, secretKey: SECRET });
    return out;
  }

  it('the right key opens every sampled value (at most 50)', () => {
    const db = new Database(sample(), { readonly: true });
    try {
      const result = checkSecretKey(db, SECRET);
      expect(result.sampled).toBeGreaterThan(0);
      expect(result.sampled).toBeLessThanOrEqual(50);
      expect(result.opened).toBe(result.sampled);
      expect(result.failures).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('a wrong key opens none, and every failure is a location', () => {
    const db = new Database(sample(), { readonly: true });
    try {
      const result = checkSecretKey(db, WRONG_SECRET);
      expect(result.sampled).toBeGreaterThan(0);
      expect(result.sampled).toBeLessThanOrEqual(50);
      expect(result.opened).toBe(0);
      expect(result.failures).toHaveLength(result.sampled);
      for (const failure of result.failures) expect(failure).toMatch(/^[a-z_]+\.[a-z_]+#\d+$/);
      expect(new Set(result.failures).size).toBe(result.failures.length);
    } finally {
      db.close();
    }
  });

  it('reports exactly the one value that does not open, by location and never by content', () => {
    const file = sample();
    const plaintext = 'SECRET-PLAINTEXT Kanarienvogel';
    const rw = new Database(file);
    // A valid-looking ciphertext made with another key, stored as BLOB like the app does.
    const foreign = Buffer.from(encryptForApp(deriveKey(WRONG_SECRET), plaintext), 'latin1');
    expect(rw.prepare(`UPDATE health_record SET patient_name = ? WHERE id = 3`).run(foreign).changes).toBe(1);
    rw.close();

    const db = new Database(file, { readonly: true });
    try {
      const result = checkSecretKey(db, SECRET);
      expect(result.failures).toEqual(['health_record.patient_name#3']);
      expect(result.opened).toBe(result.sampled - 1);
      const serialised = JSON.stringify(result);
      expect(serialised).not.toContain('SECRET-PLAINTEXT');
      expect(serialised).not.toContain(foreign.toString('latin1'));
    } finally {
      db.close();
    }
  });

  it('reports garbage text in a TEXT-stored column by its location', () => {
    const file = sample();
    const rw = new Database(file);
    expect(rw.prepare(`UPDATE health_record SET text = 'garbage, not a ciphertext' WHERE id = 2`).run().changes).toBe(1);
    rw.close();

    const db = new Database(file, { readonly: true });
    try {
      const result = checkSecretKey(db, SECRET);
      expect(result.failures).toEqual(['health_record.text#2']);
      expect(result.opened).toBe(result.sampled - 1);
      expect(JSON.stringify(result)).not.toContain('garbage');
    } finally {
      db.close();
    }
  });
});

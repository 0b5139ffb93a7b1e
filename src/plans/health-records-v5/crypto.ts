import crypto from 'node:crypto';

// The app's encrypted columns: sqlalchemy_utils EncryptedType(…, AesEngine, 'pkcs5').
// key = SHA-256(SECRET_KEY as UTF-8), IV = first 16 bytes of the key, AES-256-CBC, PKCS#7,
// stored as base64 text. dbshift only needs to know whether a key opens the values; it never
// returns, logs or stores a decrypted value.

export function deriveKey(secretKey: string): Buffer {
  return crypto.createHash('sha256').update(secretKey, 'utf8').digest();
}

export function encryptForApp(key: Buffer, plaintext: string): string {
  const cipher = crypto.createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$|^(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** True when `stored` decrypts under `key` to valid PKCS#7 padding and valid UTF-8. */
export function opensWithKey(key: Buffer, stored: string | Buffer): boolean {
  const text = typeof stored === 'string' ? stored : stored.toString('latin1');
  if (!BASE64.test(text)) return false;
  const ciphertext = Buffer.from(text, 'base64');
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) return false;
  try {
    const decipher = crypto.createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    strictUtf8.decode(plaintext);
    plaintext.fill(0);
    return true;
  } catch {
    return false;
  }
}

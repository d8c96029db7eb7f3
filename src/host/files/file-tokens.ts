/**
 * File tokens: what a member shows with every file request. A token is the member id and an
 * HMAC-SHA256 of it under a secret only this host holds, so the host keeps no table of tokens: the
 * same member gets the same token after a reconnect or a restart, and a token stops working when
 * the store forgets the identity (the caller checks that). It is not the resume token: a file
 * token leaked from a URL (`?t=`) cannot join the room as its member.
 *
 * The secret lives in the room's data folder (`file-secret`, 0600), written aside and renamed in
 * like the TLS key, so a crash never leaves half a secret that would change every token.
 */
import { createHmac, createSecretKey, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivate } from '../tls-identity.ts';

export const SECRET_FILE = 'file-secret';
const SECRET_BYTES = 32;
/** A member id as the host makes them (ids.ts randomId('m_')), or any id the store accepted. */
const MEMBER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAC = /^[A-Za-z0-9_-]{43}$/;

export class FileTokens {
  /** A key object made once: importing the raw secret for each HMAC was a tenth of a join's cost. */
  readonly #secret: KeyObject;

  private constructor(secret: Buffer) {
    this.#secret = createSecretKey(secret);
  }

  /** The room's secret from `dataDir`, made on the first start. */
  static load(dataDir: string): FileTokens {
    const path = join(dataDir, SECRET_FILE);
    try {
      chmodSync(path, 0o600);
      const secret = readFileSync(path);
      if (secret.length === SECRET_BYTES) return new FileTokens(secret);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    // Missing or unusable: a new secret only changes tokens, which every welcome hands out again.
    const secret = randomBytes(SECRET_BYTES);
    writePrivate(path, secret);
    return new FileTokens(secret);
  }

  issue(memberId: string): string {
    return `${memberId}.${this.#mac(memberId).toString('base64url')}`;
  }

  /** The member id a token was issued to, or null for anything else. */
  memberOf(token: string): string | null {
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return null;
    const id = token.slice(0, dot);
    const mac = token.slice(dot + 1);
    if (!MEMBER_ID.test(id) || !MAC.test(mac)) return null;
    const given = Buffer.from(mac, 'base64url');
    const expected = this.#mac(id);
    return given.length === expected.length && timingSafeEqual(given, expected) ? id : null;
  }

  #mac(memberId: string): Buffer {
    return createHmac('sha256', this.#secret).update(memberId).digest();
  }
}

/**
 * The one error table: each code's sentence, close code and finality, read by
 * the host when it refuses and by the client when it is refused.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { closeCodeOf, errorForClose, ERRORS, type ErrorCode, isFinal } from '../../src/shared/errors.ts';
import { CLOSE } from '../../src/shared/protocol.ts';
import { cleanup, RawPeer, startRoom } from '../helpers/room.ts';

afterEach(cleanup);

const codes = Object.keys(ERRORS) as ErrorCode[];
const protocolDoc = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');

describe('every error', () => {
  it('has a sentence a person can read, ending with a full stop', () => {
    for (const code of codes) expect(ERRORS[code].message, code).toMatch(/^[A-Z].*[.?]$/);
  });

  it('that can end a connection is documented in PROTOCOL.md with its close code', () => {
    for (const code of codes.filter((c) => 'close' in ERRORS[c])) {
      expect(protocolDoc, code).toContain(code);
      const row = protocolDoc.split('\n').find((line) => line.startsWith(`| **${closeCodeOf(code)}**`));
      expect(row, `close ${closeCodeOf(code)} has a row in §13`).toBeDefined();
    }
  });

  it('a bare close code (no Beacon reason) means the first error listed with it; 1008 alone means nothing', () => {
    expect(errorForClose(CLOSE.WRONG_CODE)).toBe('BEACON_ERR_WRONG_CODE');
    expect(errorForClose(CLOSE.LOCKED_OUT)).toBe('BEACON_ERR_LOCKED_OUT');
    expect(errorForClose(CLOSE.GOING_AWAY)).toBe('BEACON_ERR_HOST_STOPPED');
    expect(errorForClose(CLOSE.POLICY)).toBeUndefined();
    expect(errorForClose(1006)).toBeUndefined();
  });

  it('only refusals that retrying cannot fix are final', () => {
    const final = codes.filter(isFinal).sort();
    expect(final).toEqual(
      [
        'BEACON_ERR_ABUSE',
        'BEACON_ERR_BAD_NAME',
        'BEACON_ERR_ENCRYPTION_REQUIRED',
        'BEACON_ERR_FLOODING',
        'BEACON_ERR_HOST_CHANGED',
        'BEACON_ERR_LOCKED_OUT',
        'BEACON_ERR_NOT_ENCRYPTED',
        'BEACON_ERR_PENALIZED',
        'BEACON_ERR_REPLACED',
        'BEACON_ERR_ROOM_BUSY',
        'BEACON_ERR_VERSION',
        'BEACON_ERR_WRONG_CODE',
      ].sort(),
    );
  });
});

describe('the host refuses by the table', () => {
  it('a connection that never says hello is told so and closed with 4004', async () => {
    const server = await startRoom({ limits: { helloTimeoutMs: 200 } });
    const peer = new RawPeer(server);
    await peer.opened();
    const error = await peer.frame('error');
    expect(error).toMatchObject({ code: 'BEACON_ERR_HELLO_TIMEOUT', message: ERRORS.BEACON_ERR_HELLO_TIMEOUT.message });
    expect(await peer.closed).toEqual({ code: 4004, reason: 'BEACON_ERR_HELLO_TIMEOUT' });
  });
});

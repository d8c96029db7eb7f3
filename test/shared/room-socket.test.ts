/** Why a connection ended, in words a person can act on: the host's reason first, then what else is known. */
import { describe, expect, it } from 'vitest';
import { errorForSystemCode, reasonForClose } from '../../src/shared/room-socket.ts';

const fresh = { known: null, neverConnected: false };

describe('the reason shown when a connection ends', () => {
  it('is the host’s own reason when it gave one', () => {
    expect(reasonForClose(1008, 'BEACON_ERR_FLOODING', fresh)).toBe('BEACON_ERR_FLOODING');
  });

  it('is a wrong code even when a browser dropped the reason, because 4001 means only that', () => {
    expect(reasonForClose(4001, '', { known: 'BEACON_ERR_NETWORK', neverConnected: true })).toBe(
      'BEACON_ERR_WRONG_CODE',
    );
  });

  it('is what the host said before closing (a goodbye), rather than what the close code alone suggests', () => {
    expect(reasonForClose(1006, '', { known: 'BEACON_ERR_HOST_STOPPED', neverConnected: false })).toBe(
      'BEACON_ERR_HOST_STOPPED',
    );
    expect(reasonForClose(1001, '', fresh)).toBe('BEACON_ERR_HOST_STOPPED');
  });

  it('is "nothing is listening" for a connection that never got anywhere, "network lost" for one that did', () => {
    expect(reasonForClose(1006, '', { known: null, neverConnected: true })).toBe('BEACON_ERR_REFUSED');
    expect(reasonForClose(1006, '', fresh)).toBe('BEACON_ERR_NETWORK');
  });

  it('understands the platform’s system errors and ignores the rest', () => {
    expect(errorForSystemCode('ECONNREFUSED')).toBe('BEACON_ERR_REFUSED');
    expect(errorForSystemCode('EHOSTUNREACH')).toBe('BEACON_ERR_UNREACHABLE');
    expect(errorForSystemCode('toString')).toBeNull();
    expect(errorForSystemCode(undefined)).toBeNull();
  });
});

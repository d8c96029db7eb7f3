import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeHostFrames } from '../../src/shared/protocol.ts';

describe('wire frames', () => {
  it('accepts a valid hello and names what is wrong with an invalid one', () => {
    expect(decodeClientFrame('{"type":"hello","v":1,"name":"Ann"}')).toMatchObject({ ok: true });
    expect(decodeClientFrame('{"type":"hello","v":1,"name":""}')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeClientFrame('{"type":"send","clientId":"c","text":5}')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('send.text'),
    });
    expect(decodeClientFrame('[1,2]')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeClientFrame('{"type":"dance"}')).toMatchObject({ ok: false, reason: 'unknown-type' });
  });

  it('reads a batch of host frames and skips only the bad element', () => {
    const frames = decodeHostFrames(
      '[{"type":"pong","id":1,"t":2},{"type":"future"},{"type":"ack","clientId":"c","seq":1,"ts":3}]',
    );
    expect(frames.map((f) => f.ok)).toEqual([true, false, true]);
  });
});

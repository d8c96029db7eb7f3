/**
 * The pure parts of the files client: progress figures and their pace, what an upload sends and
 * which failures it tries again, names for saved files, and the message that waits for its files.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nameWithNumber } from '../../src/node/file-downloads.ts';
import { savedFileName } from '../../src/shared/file-names.ts';
import { Pace, TransferMeter, TransferReport } from '../../src/shared/file-progress.ts';
import { sha256OfBlob } from '../../src/shared/file-web-platform.ts';
import { messageGist } from '../../src/shared/files.ts';
import { Outbox } from '../../src/shared/outbox.ts';
import { decodeClientFrame } from '../../src/shared/protocol.ts';
import {
  fileIdOfUploadUrl,
  isWorthRetrying,
  parseRefusal,
  UPLOAD_RETRY_DELAYS,
  uploadError,
  uploadMetadata,
} from '../../src/shared/tus-upload.ts';
import type { Transfer } from '../../src/shared/chat-api.ts';
import { createHash, randomBytes } from 'node:crypto';

describe('progress figures', () => {
  it('speed is what moved over the last 3 seconds, so a stall long ago does not drag it down', () => {
    const meter = new TransferMeter(100_000_000);
    meter.sample(0, 0);
    meter.sample(10_000, 1_000_000); // a slow start
    for (let t = 11_000; t <= 14_000; t += 500) meter.sample(t, 1_000_000 + (t - 10_000) * 10_000);
    // 10 MB/s over the window, not the 2.8 MB/s an average since the start would say.
    expect(meter.bytesPerSecond).toBeCloseTo(10_000_000, -4);
    expect(meter.secondsLeft).toBe(Math.ceil((100_000_000 - 41_000_000) / 10_000_000));
  });

  it('says nothing until there is something to measure, and 0 s left once all is there', () => {
    const meter = new TransferMeter(1_000);
    expect(meter.bytesPerSecond).toBeNull();
    meter.sample(0, 0);
    meter.sample(50, 500);
    expect(meter.bytesPerSecond).toBeNull();
    meter.sample(200, 1_000);
    expect(meter.secondsLeft).toBe(0);
  });

  it('a count that goes back (a resume re-read its offset) starts a new window instead of a negative speed', () => {
    const meter = new TransferMeter(1_000_000);
    meter.sample(0, 0);
    meter.sample(1_000, 500_000);
    meter.sample(1_100, 400_000);
    expect(meter.bytesPerSecond).toBeNull();
    meter.sample(1_600, 600_000);
    expect(meter.bytesPerSecond).toBe(400_000);
  });
});

describe('the pace of progress events', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('lets at most 4 a second through, and the last held one always arrives', () => {
    const told: number[] = [];
    const pace = new Pace(4, () => Date.now());
    for (let i = 0; i < 100; i++) {
      pace.call(() => told.push(i));
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(1_000);
    // 1 s of calls: the first, then one every 250 ms, and the very last.
    expect(told.length).toBeLessThanOrEqual(6);
    expect(told[0]).toBe(0);
    expect(told.at(-1)).toBe(99);
  });

  it('a change of state is told at once, and a progress figure held back is dropped rather than told after it', () => {
    const told: Transfer[] = [];
    const report = new TransferReport(
      {
        id: 't_1',
        direction: 'upload',
        conversation: 'room',
        name: 'a',
        size: 100,
        doneBytes: 0,
        bytesPerSecond: null,
        secondsLeft: null,
        state: 'preparing',
      },
      (transfer) => told.push(transfer),
      () => Date.now(),
    );
    report.progress(10);
    report.progress(20);
    report.progress(30);
    report.set('done', { fileId: 'f_x' });
    vi.advanceTimersByTime(1_000);
    expect(told.map((t) => [t.state, t.doneBytes])).toEqual([
      ['active', 10],
      ['done', 100],
    ]);
  });
});

describe('what an upload sends and when it tries again', () => {
  it('metadata holds the name and conversation, and the optional keys only when known', () => {
    expect(uploadMetadata({ name: 'a.png', conversation: 'room' })).toEqual({ name: 'a.png', conversation: 'room' });
    expect(
      uploadMetadata({ name: 'a.png', conversation: 'm_2', type: 'image/png', sha256: 'ab', preview: 'f_p' }),
    ).toEqual({ name: 'a.png', conversation: 'm_2', type: 'image/png', sha256: 'ab', preview: 'f_p' });
  });

  it('tries again only what can succeed later: no answer, locks, a busy or restarting host, too many at once', () => {
    for (const status of [0, 409, 423, 429, 500, 502, 503, 504])
      expect(isWorthRetrying(status), `${status}`).toBe(true);
    for (const status of [400, 401, 403, 404, 410, 413, 460, 507])
      expect(isWorthRetrying(status), `${status}`).toBe(false);
  });

  it('keeps trying for about two minutes: a host being restarted has time to come back', () => {
    const total = UPLOAD_RETRY_DELAYS.reduce((sum, delay) => sum + delay, 0);
    expect(total).toBeGreaterThanOrEqual(100_000);
    expect(total).toBeLessThanOrEqual(180_000);
  });

  it('a refusal reads as the host said it; a missing answer as a network error', () => {
    const response = (status: number, body: string) => ({
      originalResponse: { getStatus: () => status, getBody: () => body, getHeader: () => undefined },
    });
    expect(
      uploadError(response(413, '{"code":"BEACON_ERR_FILE_TOO_LARGE","message":"Too big for this room."}')),
    ).toEqual({ code: 'BEACON_ERR_FILE_TOO_LARGE', message: 'Too big for this room.' });
    expect(uploadError(response(401, 'nope')).code).toBe('BEACON_ERR_FILE_AUTH');
    expect(uploadError(response(500, '{"code":"NOT_OURS"}')).code).toBe('BEACON_ERR_FILE_REQUEST');
    expect(uploadError(new Error('socket hang up')).code).toBe('BEACON_ERR_NETWORK');
    expect(parseRefusal('[1]')).toBeNull();
  });

  it('the file id is the end of the upload URL, and nothing else is taken for one', () => {
    expect(fileIdOfUploadUrl('https://h:1/files/uploads/f_AAAAAAAAAAAAAAAAAAAAAA')).toBe('f_AAAAAAAAAAAAAAAAAAAAAA');
    expect(fileIdOfUploadUrl('https://h:1/files/uploads/f_short')).toBeNull();
    expect(fileIdOfUploadUrl(null)).toBeNull();
  });

  it('the page’s hash of a file read in slices is its SHA-256', async () => {
    const bytes = randomBytes(9 * 1024 * 1024 + 5);
    expect(await sha256OfBlob(new File([bytes], 'big.bin'))).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});

describe('a notification of a message with files', () => {
  it('shows the caption, or the files’ names when there is none', () => {
    expect(messageGist({ text: 'the plans', files: [{ name: 'plans.pdf' }] })).toBe('the plans');
    expect(messageGist({ text: '', files: [{ name: 'plans.pdf' }, { name: 'photo.jpg' }] })).toBe(
      'plans.pdf, photo.jpg',
    );
    expect(messageGist({ text: 'hello' })).toBe('hello');
  });
});

describe('names of saved files', () => {
  it('a taken name gets a number before its extension', () => {
    expect(nameWithNumber('plans.pdf', 0)).toBe('plans.pdf');
    expect(nameWithNumber('plans.pdf', 2)).toBe('plans (2).pdf');
    expect(nameWithNumber('README', 1)).toBe('README (1)');
    expect(nameWithNumber('archive.tar.gz', 1)).toBe('archive.tar (1).gz');
  });

  it('whatever the host sent, a name cannot leave the folder, hide, or reorder itself', () => {
    expect(savedFileName('../../etc/passwd')).toBe('_.._etc_passwd');
    expect(savedFileName('..\\..\\boot.ini')).toBe('_.._boot.ini');
    expect(savedFileName('.bashrc')).toBe('bashrc');
    expect(savedFileName('photo\u202Egnp.exe')).toBe('photognp.exe');
    expect(savedFileName('...')).toBe('file');
    expect(savedFileName('a\u0000b')).toBe('a_b');
  });
});

describe('a message that waits for its files', () => {
  it('stays pending and unwritten until its files are there, then goes once with their ids', () => {
    const written: string[] = [];
    const outbox = new Outbox({ write: (frame) => written.push(frame), now: () => 0 });
    outbox.connected({ maxMessageBytes: 64 * 1024, messagesPerSecond: 20, messageBurst: 40 });
    const message = outbox.add('', null, 'room', ['t_1', 't_2']);
    expect(message).toMatchObject({ status: 'pending', transfers: ['t_1', 't_2'] });
    outbox.add('typed meanwhile', null, 'room');
    expect(written.map((frame) => JSON.parse(frame).text)).toEqual(['typed meanwhile']);
    expect(outbox.release(message.clientId, ['f_AAAAAAAAAAAAAAAAAAAAAA'])).toBe(true);
    const sent = decodeClientFrame(written[1]!);
    expect(sent.ok && sent.frame).toMatchObject({
      type: 'send',
      clientId: message.clientId,
      text: '',
      files: ['f_AAAAAAAAAAAAAAAAAAAAAA'],
    });
    // After a reconnect the same frame (same clientId) is written again: the host stores it once.
    outbox.disconnected();
    outbox.connected({ maxMessageBytes: 64 * 1024, messagesPerSecond: 20, messageBurst: 40 });
    // In the order typed: the message with files first.
    expect(written.slice(2)).toEqual([written[1], written[0]]);
  });

  it('an empty caption is refused without files, and a withdrawn message is gone', () => {
    const outbox = new Outbox({ write: () => {}, now: () => 0 });
    expect(outbox.add(' ', null, 'room').status).toBe('failed');
    const message = outbox.add(' ', null, 'room', ['t_1']);
    expect(message.status).toBe('pending');
    expect(outbox.remove(message.clientId)).toBe(true);
    expect(outbox.list()).toEqual([]);
  });
});

/**
 * Issue 11 on real hosts, as people see it: a colleague's browser over https
 * (and the --insecure plain entrance), the app hosting an encrypted room, and
 * an app member whose host made a new key. The component tests
 * (test/renderer/encryption.test.ts) cover each screen's details; these check
 * that what the hosts and clients really say reaches those screens.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CERT_FILE, KEY_FILE } from '../../src/host/tls-identity.ts';
import { type Fingerprint, formatFingerprint } from '../../src/shared/fingerprint.ts';
import { spawnNode } from '../helpers/processes.ts';
import { tempDir } from '../helpers/room.ts';
import { browserUser, desktopUser, headlessHost, HOST_READY, useChromium } from './helpers.ts';

let browser: Browser;
useChromium((launched) => (browser = launched));

const OTHER = 'e0a1b2c3d4e5f60718293a4b5c6d7e8f';

describe('a colleague with only a browser', () => {
  it('over https is told the page is encrypted, with the fingerprint the host printed, before and after joining', async () => {
    const host = await headlessHost();
    expect(host.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    const shown = formatFingerprint(host.fingerprint as Fingerprint);
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(host.url);
    const note = page.getByTestId('page-security');
    await note.waitFor();
    expect(await note.getAttribute('data-encrypted')).toBe('true');
    await expect
      .poll(() =>
        page
          .getByTestId('page-fingerprint')
          .textContent()
          .catch(() => null),
      )
      .toBe(shown);

    await page.getByTestId('join-name').fill('Ann');
    await page.getByTestId('join-code').fill('1234');
    await page.getByTestId('join-submit').click();
    const badge = page.getByTestId('security-badge');
    await badge.waitFor();
    expect(await badge.getAttribute('data-encrypted')).toBe('true');
    await badge.click();
    expect(await page.getByTestId('security-fingerprint').textContent()).toBe(shown);
    expect(await page.getByTestId('security-trust').getAttribute('data-trust')).toBe('browser');
  });

  it('a slow answer about the host does not hold up joining; its fingerprint shows up when it comes', async () => {
    const host = await headlessHost();
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, ignoreHTTPSErrors: true });
    let release: () => void = () => {};
    const answered = new Promise<void>((done) => (release = done));
    await context.route('**/room.json', async (route) => {
      await answered;
      await route.continue();
    });
    const page = await context.newPage();
    await page.goto(host.url);
    await page.getByTestId('join-name').fill('Cy');
    await page.getByTestId('join-code').fill('1234');
    await page.getByTestId('join-submit').click();
    await page.getByTestId('composer-input').waitFor();
    await page.getByTestId('security-badge').click();
    await page.getByTestId('security-fingerprint-missing').waitFor();
    release();
    await expect
      .poll(() =>
        page
          .getByTestId('security-fingerprint')
          .textContent()
          .catch(() => null),
      )
      .toBe(formatFingerprint(host.fingerprint as Fingerprint));
  });

  it('opened from an invite with another host’s fingerprint, is warned before typing the code', async () => {
    const host = await headlessHost();
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${host.url}#fp=${OTHER}`);
    await page.getByTestId('invite-mismatch').waitFor();
    expect(await page.getByTestId('stated-fingerprint').textContent()).toBe(
      formatFingerprint(host.fingerprint as Fingerprint),
    );

    // The invite the host printed, opened in the same tab, takes the warning away.
    await page.evaluate((invite) => (location.href = invite), host.invite!);
    await page.getByTestId('page-security').waitFor();
    expect(await page.getByTestId('page-security').textContent()).toContain('the same as in your invite');
    expect(await page.getByTestId('invite-mismatch').count()).toBe(0);
  });

  it('through the plain entrance of an --insecure host, is told the connection is not encrypted', async () => {
    const host = await headlessHost({ insecure: true });
    expect(host.url.startsWith('http://')).toBe(true);
    const page = await browserUser(browser, host.url, 'Bob', '1234');
    const badge = page.getByTestId('security-badge');
    await badge.waitFor();
    expect(await badge.getAttribute('data-encrypted')).toBe('false');
    expect((await badge.textContent())?.trim()).toBe('Not encrypted, details');
  });
});

describe('people in the app', () => {
  it('hosting shows the room’s fingerprint, and Copy invite copies the link that carries it', async () => {
    const desktop = await desktopUser(browser, tempDir());
    try {
      const page = desktop.page;
      page.setDefaultTimeout(10_000);
      await page.getByTestId('host-room-name').fill('Lab');
      await page.getByTestId('host-name').fill('Hana');
      await page.getByTestId('host-port').fill('0');
      await page.getByTestId('host-submit').click();
      await page.getByTestId('host-panel').waitFor();
      const shown = (await page.getByTestId('host-fingerprint').textContent()) ?? '';
      expect(shown).toMatch(/^([0-9A-F]{4} ){7}[0-9A-F]{4}$/);
      await page.evaluate(() => {
        navigator.clipboard.writeText = async (text: string) => {
          (window as unknown as { copied: string }).copied = text;
        };
      });
      await page.getByTestId('copy-invite').click();
      const copied = await page.evaluate(() => (window as unknown as { copied: string }).copied);
      expect(copied).toMatch(/^https:\/\/.+#fp=[0-9a-f]{32}$/);
      expect(formatFingerprint(copied.split('#fp=')[1] as Fingerprint)).toBe(shown);
      // The host's own window is a member over the same encrypted connection.
      expect(await page.getByTestId('security-badge').getAttribute('data-encrypted')).toBe('true');
    } finally {
      await desktop.close();
    }
  }, 60_000);

  it('a member whose host made a new key is stopped with both fingerprints, and gets back in only after trusting it', async () => {
    const data = tempDir();
    const host = await headlessHost({ data });
    const oldShown = formatFingerprint(host.fingerprint as Fingerprint);
    const desktop = await desktopUser(browser, tempDir());
    try {
      const page = desktop.page;
      await page.getByTestId('join-address').fill(host.invite!);
      await expect.poll(() => page.getByTestId('join-address-hint').textContent()).toContain(oldShown);
      await page.getByTestId('join-name').fill('Ann');
      await page.getByTestId('join-code').fill('1234');
      await page.getByTestId('join-submit').click();
      await page.getByTestId('composer-input').waitFor();
      await page.getByTestId('security-badge').click();
      expect(await page.getByTestId('security-trust').getAttribute('data-trust')).toBe('invite');

      // The host comes back on the same port with a new key (reinstalled, or an impostor).
      host.child.kill('SIGKILL');
      rmSync(join(data, KEY_FILE));
      rmSync(join(data, CERT_FILE));
      const again = await spawnNode('src/cli/host.ts', host.args, HOST_READY);
      const newFingerprint = again.lines.find((l) => l.startsWith('Invite: '))!.split('#fp=')[1]!;
      await page
        .getByTestId('retry-now')
        .click({ timeout: 15_000 })
        .catch(() => {});
      await page.getByTestId('host-changed').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('expected-fingerprint').textContent()).toBe(oldShown);
      expect(await page.getByTestId('presented-fingerprint').textContent()).toBe(
        formatFingerprint(newFingerprint as Fingerprint),
      );

      await page.getByTestId('host-changed-trust').click();
      await page.getByTestId('host-changed-trust-confirm').click();
      await page.getByTestId('host-changed').waitFor({ state: 'detached' });
      await page.getByTestId('composer-input').waitFor({ timeout: 15_000 });
      await page.getByTestId('security-badge').click();
      expect(await page.getByTestId('security-fingerprint').textContent()).toBe(
        formatFingerprint(newFingerprint as Fingerprint),
      );
    } finally {
      await desktop.close();
    }
  }, 90_000);
});

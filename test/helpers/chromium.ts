import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's Chromium (never a downloaded browser), headless, with the flags this
 * workplace needs: no sandbox as root, no GPU, and no background traffic to
 * the internet. CHROMIUM_PATH points elsewhere on other systems.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];

/** The Chromium binary tests run. */
export const CHROMIUM_EXECUTABLE = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** `executablePath`: a wrapper that starts it elsewhere (inside a network namespace, say). */
export function launchChromium(executablePath = CHROMIUM_EXECUTABLE): Promise<Browser> {
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

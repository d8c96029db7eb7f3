/**
 * The Electron shell as BUILT (out/main/index.js and out/preload/index.cjs from
 * `electron-vite build`), run on Node 24 against a recorded stand-in of the
 * Electron API: the real binary cannot run here, but the shell's own code does.
 *
 * Each scenario is one child process (shell-standin/driver.ts, with the
 * `electron` specifier redirected to shell-standin/electron.ts by a module
 * hook) that starts the shell, replays inputs through everything it
 * registered and prints one JSON report. The assertions live here; the
 * command list comes from the contract (CommandSchemas), the channel names
 * from the bridge (commandChannel), never from a copy.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_PAGE_URL } from '../../src/main/app-protocol.ts';
import { commandChannel, EVENT_CHANNEL } from '../../src/main/ipc-bridge.ts';
import { type CommandName, CommandSchemas } from '../../src/shared/chat-api.ts';
import { contentSecurityPolicy } from '../../src/shared/csp.ts';
import {
  type AppReport,
  type FrameProbe,
  type PreloadReport,
  REPORT_PREFIX,
  type Report,
} from './shell-standin/report.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const OUT = join(ROOT, 'out');
const BUILT = {
  main: join(OUT, 'main', 'index.js'),
  preload: join(OUT, 'preload', 'index.cjs'),
  page: join(OUT, 'renderer', 'index.html'),
};
const STANDIN = join(import.meta.dirname, 'shell-standin');
const LOCAL_NODE = join(ROOT, 'node_modules', '.bin', 'node');
const NODE = existsSync(LOCAL_NODE) ? LOCAL_NODE : process.execPath;
const DRIVER_TIMEOUT_MS = 20_000;

const COMMANDS = Object.keys(CommandSchemas) as CommandName[];
const CHANNELS = COMMANDS.map(commandChannel);
const DEV_URL_IN_PACKAGED_APP = 'http://evil.example:5173/';

const userDataDirs: string[] = [];

/** Runs one scenario of the driver in its own process and returns its report. */
function runDriver(mode: 'app' | 'preload', env: Record<string, string> = {}, argv: string[] = []): Promise<Report> {
  const userData = mkdtempSync(join(tmpdir(), 'beacon-shell-'));
  userDataDirs.push(userData);
  const inherited = { ...process.env };
  for (const key of Object.keys(inherited)) {
    if (key === 'ELECTRON_RENDERER_URL' || key === 'NODE_OPTIONS' || key.startsWith('BEACON_')) delete inherited[key];
  }
  const child = spawn(
    NODE,
    ['--import', pathToFileURL(join(STANDIN, 'register.ts')).href, join(STANDIN, 'driver.ts'), mode, ...argv],
    {
      cwd: ROOT,
      // No multicast from tests outside the namespaces they make: the app's discovery stays off.
      env: { ...inherited, BEACON_SHELL_OUT: OUT, BEACON_STANDIN_USER_DATA: userData, BEACON_DISCOVERY: 'off', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const what = `driver ${mode} ${JSON.stringify(env).slice(0, 300)} ${argv.join(' ').slice(0, 300)}`;
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${what} did not finish in ${DRIVER_TIMEOUT_MS} ms.\nstderr: ${stderr}\nstdout: ${stdout}`));
    }, DRIVER_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(REPORT_PREFIX));
      if (!line) {
        fail(new Error(`${what} exited (${code ?? signal}) without a report.\nstderr: ${stderr}\nstdout: ${stdout}`));
        return;
      }
      const report = JSON.parse(line.slice(REPORT_PREFIX.length)) as Report;
      if ('loadError' in report) {
        fail(
          new Error(
            `The built shell did not load against the Electron stand-in (${what}). If it names an export ` +
              `of 'electron' that is missing, add it to test/desktop/shell-standin/electron.ts.\n${report.loadError}`,
          ),
        );
        return;
      }
      done(report);
    });
  });
}

// beacon: links handed to the running app. Every one carries SECRET_CODE somewhere, which must never be logged.
const FP = '3f9a21c477b05e129c0daa431b7f6e20';
const SECRET_CODE = 'S3CRET-9413';
const LINK = `beacon://192.168.1.20:4747/#fp=${FP}&code=${SECRET_CODE}`;
const VALID_LINKS: { link: string; address: string; code: string | null }[] = [
  { link: LINK, address: `https://192.168.1.20:4747/#fp=${FP}`, code: SECRET_CODE },
  {
    link: `BEACON://Laptop.local:5000#fp=${FP.toUpperCase()}`,
    address: `https://laptop.local:5000/#fp=${FP}`,
    code: null,
  },
];
const HOSTILE_LINKS = [
  `${LINK}${'a'.repeat(10_000)}`,
  `${LINK}&fp=${'0'.repeat(32)}`,
  `beacon://192.168.1.20:4747/?fp=${FP}#code=${SECRET_CODE}`,
  `beacon://evil.example%2F@192.168.1.20:4747/#fp=${FP}&code=${SECRET_CODE}`,
  `beacon://user:${SECRET_CODE}@192.168.1.20:4747/#fp=${FP}`,
  `beacon://192.168.1.20:4747/../../etc#fp=${FP}&code=${SECRET_CODE}`,
  `beacon://192.168.1.20:4747/#fp=${FP}&code=${encodeURIComponent(`${SECRET_CODE}\u202e`)}`,
  `beacon://l\u0430ptop.local:4747/#fp=${FP}&code=${SECRET_CODE}`,
  `beacon://192.168.1.20:4747/#fp=${FP}&code=${SECRET_CODE}&next=javascript:alert(1)`,
  `javascript:alert('${SECRET_CODE}')`,
  `https://192.168.1.20:4747/#fp=${FP}&code=${SECRET_CODE}`,
];

let app: AppReport;
let preload: PreloadReport;
let secondLaunch: AppReport;
let packaged: AppReport;

beforeAll(async () => {
  const missing = Object.values(BUILT).filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(
      `The built app is missing (${missing.join(', ')}): run \`npx electron-vite build\` first (\`npm test\` does).`,
    );
  }
  const invites = JSON.stringify([...VALID_LINKS.map(({ link }) => link), ...HOSTILE_LINKS]);
  // Started by a link: the app by a valid one, the packaged app by a hostile one, the second launch by one it leaves alone.
  [app, preload, secondLaunch, packaged] = (await Promise.all([
    runDriver('app', { BEACON_STANDIN_INVITES: invites }, ['--flag', LINK]),
    runDriver('preload'),
    runDriver('app', { BEACON_STANDIN_LOCK: '0' }, [LINK]),
    runDriver('app', { BEACON_STANDIN_PACKAGED: '1', ELECTRON_RENDERER_URL: DEV_URL_IN_PACKAGED_APP }, [
      HOSTILE_LINKS[1]!,
    ]),
  ])) as [AppReport, PreloadReport, AppReport, AppReport];
}, DRIVER_TIMEOUT_MS + 10_000);

afterAll(() => {
  for (const dir of userDataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const isWebLink = (url: string): boolean => {
  try {
    return ['http:', 'https:'].includes(new URL(url).protocol);
  } catch {
    return false;
  }
};

/** The bridge's refusal: what the page gets for a request main will not serve. */
const isRefusal = (result: unknown): boolean => {
  const r = result as { ok?: unknown; error?: { code?: unknown } } | null;
  return r?.ok === false && r.error?.code === 'BEACON_ERR_INVALID_INPUT';
};

/** The probes whose result is not the refusal, described for a readable failure. */
const notRefused = (channel: string, probes: FrameProbe[]): string[] =>
  probes
    .filter((probe) => !isRefusal(probe.result))
    .map(
      (probe) =>
        `${channel} from ${probe.frame || '(empty URL)'}${probe.embedded ? ' (embedded)' : ''} ` +
        `with ${JSON.stringify(probe.payload)}: ${JSON.stringify(probe.result)}`,
    );

describe('the desktop shell, as built', () => {
  it('the window cannot reach Node and its preload exists in the build', () => {
    expect(app.windows).toHaveLength(1);
    const preferences = app.windows[0]!.options['webPreferences'] as Record<string, unknown>;
    expect(preferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    });
    for (const risky of ['nodeIntegrationInSubFrames', 'nodeIntegrationInWorker', 'webviewTag'] as const) {
      expect(preferences[risky], risky).not.toBe(true);
    }
    expect(preferences['allowRunningInsecureContent']).not.toBe(true);
    const preloadPath = preferences['preload'];
    expect(typeof preloadPath).toBe('string');
    expect(resolve(preloadPath as string)).toBe(BUILT.preload);
    expect(existsSync(preloadPath as string), `preload ${String(preloadPath)} exists`).toBe(true);
  });

  it('the window shows Beacon’s own page, and only once the page is ready', () => {
    const [window] = app.windows;
    expect(app.rendererUrl).toBe(APP_PAGE_URL);
    expect(window!.loadedUrls).toEqual([app.rendererUrl]);
    expect(window!.options['show']).toBe(false);
    expect(window!.callsBeforeReadyToShow).not.toContain('show');
    expect(window!.callsAfterReadyToShow).toContain('show');
  });

  it('a packaged app shows its own page even when ELECTRON_RENDERER_URL points elsewhere', () => {
    expect(packaged.isPackaged).toBe(true);
    expect(packaged.windows).toHaveLength(1);
    expect(packaged.windows[0]!.loadedUrls).toEqual([packaged.rendererUrl]);
    const fromDevUrl = packaged.handlers.flatMap(({ channel, untrusted }) =>
      notRefused(
        channel,
        untrusted.filter(({ frame }) => frame === DEV_URL_IN_PACKAGED_APP),
      ),
    );
    expect(packaged.handlers.length).toBeGreaterThan(0);
    expect(fromDevUrl).toEqual([]);
  });

  it('every command of the interface reaches main through exactly one handler', () => {
    expect(COMMANDS.length).toBeGreaterThan(0);
    const duplicates = app.handlerChannels.filter((channel, i) => app.handlerChannels.indexOf(channel) !== i);
    expect(duplicates, 'channels registered twice').toEqual([]);
    expect([...app.handlerChannels].sort()).toEqual([...CHANNELS].sort());
  });

  it('the page gets exactly one function per command, each calling its own channel, plus onEvent', () => {
    expect(preload.errors).toEqual([]);
    const sandboxModules = ['electron', 'events', 'timers', 'url'];
    expect(
      preload.required.filter((id) => !sandboxModules.includes(id)),
      'modules a sandbox lacks',
    ).toEqual([]);
    expect(preload.exposedKeys).toEqual(['beacon']);
    expect(preload.leaksIpcRenderer).toBe(false);

    const functions = preload.members.filter(({ type }) => type === 'function').map(({ key }) => key);
    const others = preload.members.filter(({ type }) => type !== 'function').map(({ key }) => key);
    expect(functions.sort()).toEqual([...COMMANDS, 'onEvent', 'fileUrl'].sort());
    expect(others).toEqual(['capabilities']);
    // The desktop app is the one interface that can host.
    expect(preload.capabilities).toMatchObject({ host: true });

    for (const name of COMMANDS) {
      const call = preload.calls.find(({ key }) => key === name);
      expect(
        call?.invocations.map(({ channel }) => channel),
        `beacon.${name}()`,
      ).toEqual([commandChannel(name)]);
      expect(call?.returnsPromise, `beacon.${name}() returns a promise`).toBe(true);
      // Commands that take input pass it on unchanged; sendFiles turns the page's files into paths or bytes.
      if (name === 'sendFiles') continue;
      if (!v.safeParse(CommandSchemas[name], undefined).success) {
        expect(call?.invocations[0]?.args, `beacon.${name}() forwards its input`).toEqual([{ probe: name }]);
      }
    }

    // A picked file goes to main as its path (only Electron can tell it), a pasted one as its bytes.
    const sendFiles = preload.calls.find(({ key }) => key === 'sendFiles')?.invocations[0]?.args[0];
    expect(sendFiles).toEqual({
      conversation: 'room',
      text: 'hi',
      files: [
        { name: 'picked.txt', type: 'text/plain', size: 3, source: { path: '/picked/picked.txt' } },
        {
          name: 'pasted.png',
          type: 'image/png',
          size: 2,
          source: { bytes: { 0: 1, 1: 2 } },
          image: { width: 2, height: 1 },
          preview: { bytes: { 0: 3 }, type: 'image/webp', width: 2, height: 1 },
        },
      ],
    });
    // The window loads pictures from main's scheme, the preview's own id when it asks for the preview.
    expect(preload.calls.find(({ key }) => key === 'fileUrl')?.value).toBe(
      'beacon-file://file/f_BBBBBBBBBBBBBBBBBBBBBB',
    );

    expect(preload.onEvent).toEqual({
      subscribedChannels: [EVENT_CHANNEL],
      receivedWhileSubscribed: [{ type: 'left' }],
      receivedAfterUnsubscribe: [],
      listenersLeft: 0,
    });
  });

  it('requests from any other page, an embedded frame or no frame are refused', () => {
    expect(app.handlers).toHaveLength(CHANNELS.length);
    for (const { untrusted } of app.handlers) {
      expect(untrusted.some(({ frame }) => frame === 'https://evil.example/')).toBe(true);
      // The very page the window shows, but opened as a file: not Beacon's origin.
      expect(untrusted.some(({ frame }) => frame === pathToFileURL(BUILT.page).href)).toBe(true);
      expect(untrusted.some(({ frame }) => frame === 'app://evil/index.html')).toBe(true);
      expect(untrusted.some(({ embedded }) => embedded)).toBe(true);
    }
    expect(app.handlers.flatMap(({ channel, untrusted }) => notRefused(channel, untrusted))).toEqual([]);
  });

  it('malformed requests from Beacon’s own window are refused', () => {
    expect(app.handlers).toHaveLength(CHANNELS.length);
    expect(app.handlers.flatMap(({ channel, badPayloads }) => notRefused(channel, badPayloads))).toEqual([]);
  });

  it('Beacon’s own window gets through: it reads the session state', () => {
    const getState = app.handlers.find(({ channel }) => channel === commandChannel('getState'));
    expect(getState?.trusted.frame).toBe(app.rendererUrl);
    expect(getState?.trusted.result).toMatchObject({ ok: true, value: { connection: { kind: 'idle' }, room: null } });
    // Every well-formed probe from the window passed the checks (so the refusals above are the frame's doing).
    const refusedButValid = app.handlers.filter(({ channel, trusted }) => {
      const name = COMMANDS.find((command) => commandChannel(command) === channel)!;
      return v.safeParse(CommandSchemas[name], trusted.payload).success && isRefusal(trusted.result);
    });
    expect(refusedButValid.map(({ channel, trusted }) => `${channel}: ${JSON.stringify(trusted.result)}`)).toEqual([]);
  });

  it('links open in the system browser and the page itself never navigates', () => {
    expect(app.navigationListeners).toBeGreaterThan(0);
    expect(app.navigation.length).toBeGreaterThan(0);
    for (const { url, prevented, openedExternally } of app.navigation) {
      expect(prevented, `navigation to ${JSON.stringify(url)} is stopped`).toBe(true);
      expect(openedExternally, `what ${JSON.stringify(url)} opens outside`).toEqual(isWebLink(url) ? [url] : []);
    }
    expect(app.navigation.some(({ url }) => isWebLink(url))).toBe(true);
    expect(app.navigation.some(({ url }) => url.startsWith('javascript:'))).toBe(true);
  });

  it('pages cannot open windows; web links go to the system browser instead', () => {
    expect(app.windows[0]!.windowOpenHandlers).toBe(1);
    for (const { url, results, openedExternally } of app.windowOpen) {
      expect(results, `window.open(${JSON.stringify(url)})`).toEqual([{ action: 'deny' }]);
      expect(openedExternally, `what ${JSON.stringify(url)} opens outside`).toEqual(isWebLink(url) ? [url] : []);
    }
  });

  it('a page cannot attach a webview', () => {
    expect(app.webview).toEqual({ listeners: 1, prevented: true });
  });

  it('only Beacon’s own page may write to the clipboard; no page gets camera, location or notifications', () => {
    expect(app.permissionRequestHandlers).toBe(1);
    expect(app.permissionCheckHandlers).toBe(1);
    const expected = (permission: string, url: string) =>
      permission === 'clipboard-sanitized-write' && url === app.rendererUrl;
    for (const probes of [app.permissionRequests, app.permissionChecks]) {
      expect(probes.some(({ permission }) => permission === 'media')).toBe(true);
      const wrong = probes.filter(({ permission, url, granted }) => granted !== expected(permission, url));
      expect(wrong).toEqual([]);
    }
    expect(app.permissionRequests.filter(({ granted }) => granted === true)).toHaveLength(1);
  });

  it('every response the window loads carries Beacon’s Content-Security-Policy', () => {
    expect(app.headersListeners).toBeGreaterThan(0);
    const policy = contentSecurityPolicy({ header: true, app: true });
    expect(app.headers.length).toBeGreaterThan(0);
    for (const { url, responseHeaders } of app.headers) {
      const headers = Object.entries(responseHeaders as Record<string, unknown>);
      const csp = headers.filter(([name]) => name.toLowerCase() === 'content-security-policy');
      expect(csp, `CSP header for ${url}`).toEqual([['Content-Security-Policy', [policy]]]);
      expect(headers, `other headers of ${url} kept`).toContainEqual(['X-Probe', ['kept']]);
    }
  });

  it('starting Beacon a second time quits at once without opening a window', () => {
    expect(secondLaunch.lockRequests).toBe(1);
    expect(secondLaunch.quitCalls).toBeGreaterThan(0);
    expect(secondLaunch.windows).toEqual([]);
    expect(secondLaunch.handlerChannels).toEqual([]);
    expect(secondLaunch.permissionRequestHandlers + secondLaunch.headersListeners).toBe(0);
  });

  it('the running window comes forward when Beacon is started again', () => {
    expect(app.quitCalls).toBe(0);
    expect(app.appEvents).toContain('second-instance');
    expect(app.windows[0]!.callsOnSecondInstance).toEqual(expect.arrayContaining(['restore', 'show', 'focus']));
  });

  it('the window loads its pages from app: and pictures of the room from beacon-file:, both declared once before ready', () => {
    expect(app.privilegedSchemeCalls).toBe(1);
    expect(app.privilegedSchemes).toEqual([
      { scheme: 'app', beforeReady: true },
      { scheme: 'beacon-file', beforeReady: true },
    ]);
    expect([...app.handledSchemes].sort()).toEqual(['app', 'beacon-file']);
    // Standard and secure: app://beacon is an origin of its own ('self' in the CSP), treated like https.
    expect(app.schemePrivileges['app']).toMatchObject({ standard: true, secure: true });
    expect(app.schemePrivileges['app']).not.toHaveProperty('bypassCSP');
  });

  it('app://beacon serves the built page with Beacon’s Content-Security-Policy', () => {
    const policy = contentSecurityPolicy({ header: true, app: true });
    const page = readFileSync(BUILT.page, 'utf8');
    for (const url of ['app://beacon/index.html', 'app://beacon/']) {
      const answer = app.appRequests.find((r) => r.url === url && r.method === 'GET');
      expect(answer, url).toMatchObject({ status: 200, csp: policy, contentType: 'text/html; charset=utf-8' });
      expect(answer?.bodyLength).toBe(page.length);
    }
    expect(app.appRequests.find((r) => r.method === 'HEAD')).toMatchObject({ status: 200, bodyLength: 0 });
    // The page's own script, named in index.html, comes from the same origin.
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(page)?.[1];
    expect(script).toBeDefined();
  });

  it('app:// refuses other hosts, other methods and every way out of the renderer folder, with the CSP still on', () => {
    const served = new Set(['app://beacon/index.html', 'app://beacon/']);
    const refused = app.appRequests.filter((r) => !(served.has(r.url) && ['GET', 'HEAD'].includes(r.method)));
    expect(refused.length).toBeGreaterThan(10);
    for (const answer of refused) {
      expect(answer.status, `${answer.method} ${answer.url}: ${answer.bodyStart}`).toBe(404);
      expect(answer.bodyStart).not.toContain('import');
      expect(answer.csp).toBe(contentSecurityPolicy({ header: true, app: true }));
    }
  });

  it('the application menu offers “Open logs folder”, keeping the standard edit menu', () => {
    const labels = app.applicationMenu.map(({ label }) => label);
    expect(labels).toContain('editMenu');
    expect(app.applicationMenu.flatMap(({ submenu }) => submenu)).toContain('Open logs folder');
  });

  it('the installers register beacon: links too (electron-builder.yml)', () => {
    const config = readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8');
    expect(config).toMatch(/^protocols:\n\s+- name: Beacon room\n\s+schemes: \[beacon\]$/m);
  });

  it('an installed Beacon registers itself for beacon: links; a development run leaves the system alone', () => {
    expect(packaged.protocolClients).toEqual([{ protocol: 'beacon', path: null, args: null }]);
    expect(app.protocolClients).toEqual([]);
  });

  it('a beacon: link on a second launch’s command line reaches the page as one openInvite event', () => {
    for (const { link, address, code } of VALID_LINKS) {
      const probe = app.invites.find(({ via, input }) => via === 'second-instance' && input.at(-1) === link);
      expect(probe?.events, link).toEqual([{ type: 'openInvite', address, code }]);
      expect(probe?.windowCalls).toEqual(expect.arrayContaining(['show', 'focus']));
    }
  });

  it('a beacon: link opened on macOS (open-url) reaches the page the same way', () => {
    for (const { link, address, code } of VALID_LINKS) {
      const probe = app.invites.find(({ via, input }) => via === 'open-url' && input === link);
      expect(probe?.prevented).toBe(true);
      expect(probe?.events, link).toEqual([{ type: 'openInvite', address, code }]);
      expect(probe?.windowCalls).toEqual(expect.arrayContaining(['show', 'focus']));
    }
  });

  it('an invalid or hostile link sends nothing to the page and is logged without its code', () => {
    for (const link of HOSTILE_LINKS) {
      const probes = app.invites.filter(({ input }) => input === link || input.at(-1) === link);
      expect(probes.map(({ via }) => via).sort(), link.slice(0, 80)).toEqual(['open-url', 'second-instance']);
      for (const probe of probes) expect(probe.events, `${probe.via} ${link.slice(0, 80)}`).toEqual([]);
      // open-url with a bad link does not even bring the window forward.
      expect(probes.find(({ via }) => via === 'open-url')?.windowCalls).toEqual([]);
    }
    const twoAtOnce = app.invites.find(({ input }) => Array.isArray(input) && input[0] === VALID_LINKS[0]!.link);
    expect(twoAtOnce?.input).toEqual([VALID_LINKS[0]!.link, VALID_LINKS[1]!.link]);
    expect(twoAtOnce?.events).toEqual([]);
    const total = app.invites.reduce((sum, { events }) => sum + events.length, 0);
    expect(total).toBe(2 * VALID_LINKS.length);
    expect(app.logs.filter((line) => line.includes('ignored a beacon: link'))).toHaveLength(
      HOSTILE_LINKS.length * 2 - 2,
    );
    for (const report of [app, packaged, secondLaunch]) {
      expect(report.logs.filter((line) => line.includes(SECRET_CODE) || line.includes(FP))).toEqual([]);
    }
  });

  it('a link that started Beacon waits for the page to load, then reaches it once', () => {
    expect(app.startLink).toEqual({
      beforePageLoad: [],
      afterPageLoad: [{ type: 'openInvite', address: VALID_LINKS[0]!.address, code: SECRET_CODE }],
    });
    expect(packaged.startLink).toEqual({ beforePageLoad: [], afterPageLoad: [] });
    expect(packaged.logs.some((line) => line.includes('ignored a beacon: link'))).toBe(true);
    // The instance that quits for the running one leaves the link to it.
    expect(secondLaunch.logs).toEqual([]);
  });

  it('starting and probing the shell opens no socket and raises no error', () => {
    for (const report of [app, secondLaunch, packaged]) {
      expect(report.networkAttempts).toEqual([]);
      expect(report.errors).toEqual([]);
    }
  });
});

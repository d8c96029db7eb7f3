/**
 * Runs one scenario of hosting-driver.ts (the BUILT shell on the recorded Electron stand-in) in a
 * child process with a fresh user data folder, and gathers what it left: its report, its log
 * files and its settings file. Used by tray.test.ts and settings-shell.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HOSTING_REPORT_PREFIX, type HostingReport } from './report.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
export const OUT = join(ROOT, 'out');
const STANDIN = import.meta.dirname;
const LOCAL_NODE = join(ROOT, 'node_modules', '.bin', 'node');
const NODE = existsSync(LOCAL_NODE) ? LOCAL_NODE : process.execPath;

export interface Run {
  report: HostingReport;
  userData: string;
  /** Every log file the run left (main.log, main.old.log), concatenated. */
  log: string;
  settings: Record<string, unknown>;
}

/**
 * `userDataDirs` collects the folder for the caller to remove; `prepare` writes into it before
 * the shell starts (a settings file from an earlier run, say). The XDG config folder (where a
 * Linux login item goes) is the user data folder's `config`, never the real one.
 */
export function runHostingScenario(
  scenario: string,
  userDataDirs: string[],
  prepare: (userData: string) => void = () => {},
): Promise<Run> {
  const userData = mkdtempSync(join(tmpdir(), 'beacon-tray-'));
  userDataDirs.push(userData);
  prepare(userData);
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key === 'ELECTRON_RENDERER_URL' || key === 'NODE_OPTIONS' || key === 'APPIMAGE' || key.startsWith('BEACON_'))
      delete env[key];
  }
  const child = spawn(
    NODE,
    ['--import', pathToFileURL(join(STANDIN, 'register.ts')).href, join(STANDIN, 'hosting-driver.ts'), scenario],
    {
      cwd: ROOT,
      env: {
        ...env,
        BEACON_SHELL_OUT: OUT,
        BEACON_STANDIN_USER_DATA: userData,
        BEACON_DISCOVERY: 'off',
        XDG_CONFIG_HOME: join(userData, 'config'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((done, fail) => {
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith(HOSTING_REPORT_PREFIX));
      if (!line) {
        fail(
          new Error(
            `hosting driver ${scenario} exited (${code}) without a report.\nstderr: ${stderr}\nstdout: ${stdout}`,
          ),
        );
        return;
      }
      const logs = join(userData, 'logs');
      const log = existsSync(logs)
        ? readdirSync(logs)
            .map((name) => readFileSync(join(logs, name), 'utf8'))
            .join('\n')
        : '';
      const settingsFile = join(userData, 'settings.json');
      const settings = existsSync(settingsFile)
        ? (JSON.parse(readFileSync(settingsFile, 'utf8')) as Record<string, unknown>)
        : {};
      done({ report: JSON.parse(line.slice(HOSTING_REPORT_PREFIX.length)) as HostingReport, userData, log, settings });
    });
  });
}

/**
 * The main process's log: a file in the user data folder (logs/main.log, rotated to main.old.log past
 * MAX_LOG_BYTES, so at most twice that is kept) that a person can open from the menus and send.
 *
 * electron-log's Node entry, not its Electron one: the Electron entry registers an IPC channel of its
 * own (`__ELECTRON_LOG__`) that any page could write to, outside the bridge's sender check. Main is
 * the only writer here; the window has nothing to log through.
 *
 * What is logged: the app's lifecycle, hosting started and stopped (with its port), members joining
 * and leaving as counts, errors. Never join codes, tokens, file tokens, message text, display names,
 * room names or file names: whatever a person typed or was given stays out, so a log can be sent as it is.
 */
import logger from 'electron-log/node';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** 1 MiB per file, two files: weeks of lifecycle lines, small enough to attach to a message. */
export const MAX_LOG_BYTES = 1024 * 1024;
export const LOG_FILE_NAME = 'main.log';

export interface AppLog {
  info(line: string): void;
  warn(line: string): void;
  error(line: string, error?: unknown): void;
  /** The folder the files are in ("Open logs folder"). */
  readonly folder: string;
}

export function logsFolder(userData: string): string {
  return join(userData, 'logs');
}

/**
 * A logger writing to `folder`/main.log, rotated past `maxBytes`, and to the console unless `console` is false.
 * Each call makes its own electron-log instance (tests make several in one process).
 */
export function createAppLog(
  folder: string,
  options: { maxBytes?: number; console?: boolean; id?: string } = {},
): AppLog {
  // Made here (0700) rather than by electron-log at the first line (0755).
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const log = logger.create({ logId: options.id ?? 'beacon-main' });
  const file = log.transports.file;
  file.resolvePathFn = () => join(folder, LOG_FILE_NAME);
  file.maxSize = options.maxBytes ?? MAX_LOG_BYTES;
  file.level = 'info';
  // Only this user reads it (as settings.json): paths and ports are still nobody else's business.
  file.writeOptions = { flag: 'a', mode: 0o600, encoding: 'utf8' };
  log.transports.console.level = options.console === false ? false : 'info';
  // Nothing leaves the file: no IPC to windows (the transport exists only inside Electron), no HTTP.
  const { ipc, remote } = log.transports as Partial<typeof log.transports>;
  if (ipc) ipc.level = false;
  if (remote) remote.level = false;
  return {
    info: (line) => log.info(line),
    warn: (line) => log.warn(line),
    error: (line, error) => (error === undefined ? log.error(line) : log.error(line, describeError(error))),
    folder,
  };
}

/** An error as one line: its code or name and message, and where it came from (no payloads or arguments). */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const code = (error as { code?: unknown }).code;
  const head = `${typeof code === 'string' ? code : error.name}: ${error.message}`;
  const frames = error.stack?.split('\n').slice(1, 6).join('\n') ?? '';
  return frames ? `${head}\n${frames}` : head;
}

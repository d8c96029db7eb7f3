/**
 * The IPC bridge: one handler per ChatApi command. Every call is checked for
 * its sender (only our own window's page) and its payload (the command's
 * schema) before it reaches the commands; results travel as Result values.
 */
import * as v from 'valibot';
import {
  type ChatCommands,
  type ChatEvent,
  type CommandName,
  CommandSchemas,
  type Result,
} from '../shared/chat-api.ts';
import { fail } from '../shared/result.ts';
import { isAppUrl } from './app-protocol.ts';

export const EVENT_CHANNEL = 'beacon:event';
export const commandChannel = (name: CommandName): string => `beacon:${name}`;

/** What the bridge reads of the frame that sent a call: its URL and whether it is the main frame. */
export interface SenderFrame {
  url: string;
  parent: unknown;
}

/** The part of Electron's ipcMain the bridge uses: the one seam replaced in tests. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: { senderFrame: SenderFrame | null }, payload: unknown) => unknown): void;
  removeHandler(channel: string): void;
}

/**
 * True for a frame showing our renderer: a page of app://beacon (the app's own origin), or in
 * development the dev server's origin. Never file:// (every file on the disk shares that origin).
 */
export function isTrustedSender(frameUrl: string | undefined, rendererUrl: string): boolean {
  if (!frameUrl) return false;
  if (isAppUrl(rendererUrl)) return isAppUrl(frameUrl);
  try {
    const frame = new URL(frameUrl);
    const expected = new URL(rendererUrl);
    return (expected.protocol === 'http:' || expected.protocol === 'https:') && frame.origin === expected.origin;
  } catch {
    return false;
  }
}

export function registerIpc(ipcMain: IpcMainLike, commands: ChatCommands, rendererUrl: string): () => void {
  const names = Object.keys(CommandSchemas) as CommandName[];
  for (const name of names) {
    ipcMain.handle(commandChannel(name), async (event, payload): Promise<Result<unknown>> => {
      // Only Beacon's own page, and only its main frame (no embedded frame speaks for it).
      const frame = event.senderFrame;
      if (!frame || frame.parent !== null || !isTrustedSender(frame.url, rendererUrl)) {
        return fail('BEACON_ERR_INVALID_INPUT', 'This request did not come from Beacon’s window.');
      }
      const parsed = v.safeParse(CommandSchemas[name], payload);
      if (!parsed.success) return fail('BEACON_ERR_INVALID_INPUT', refusal(parsed.issues[0]));
      try {
        const command = commands[name] as (input: unknown) => Promise<Result<unknown>>;
        return await command.call(commands, parsed.output);
      } catch (error) {
        return fail('BEACON_ERR_INTERNAL', error instanceof Error ? error.message : String(error));
      }
    });
  }
  return () => names.forEach((name) => ipcMain.removeHandler(commandChannel(name)));
}

/**
 * What was wrong with a payload. A schema's own sentence ("Enter your name.") as it is; valibot's
 * generic words with the field they are about: "ids: Invalid length: Expected <=200 but received 10000".
 */
function refusal(issue: v.BaseIssue<unknown>): string {
  const where = v.getDotPath(issue);
  return where && issue.message.startsWith('Invalid ') ? `${where}: ${issue.message}` : issue.message;
}

/** Sends chat events to the window, if it is still there. */
export function eventSender(
  target: () => { isDestroyed(): boolean; send(channel: string, event: ChatEvent): void } | null,
) {
  return (event: ChatEvent): void => {
    const contents = target();
    if (contents && !contents.isDestroyed()) contents.send(EVENT_CHANNEL, event);
  };
}

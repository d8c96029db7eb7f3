/**
 * Placeholder until the in-browser session lands: every command fails with a
 * clear message so the interface still renders. Another engineer replaces this file.
 */
import type { ChatApi, ChatCommands, CommandName, Result } from '../../shared/chat-api.ts';

const failure: Result<never> = {
  ok: false,
  error: { code: 'BEACON_ERR_INTERNAL', message: 'Joining from a browser is not available in this build yet.' },
};

export function createWebChatApi(): ChatApi {
  const names: CommandName[] = ['host', 'join', 'leave', 'send', 'retry', 'retryNow', 'typing', 'setStatus', 'loadOlder', 'markRead', 'getState'];
  const commands = Object.fromEntries(names.map((name) => [name, () => Promise.resolve(failure)])) as unknown as ChatCommands;
  return {
    ...commands,
    capabilities: { host: false, notifications: false },
    onEvent: () => () => {},
  };
}

/**
 * Where a `send` goes and what it answers (docs/PROTOCOL.md §19.2, §19.3, §19.7): its channel (one
 * that exists and is not archived; not with `to`), the message it replies to (one of the same
 * conversation that the sender may see and that is not deleted) and the members it mentions.
 */
import type { ErrorCode } from '../../shared/errors.ts';
import { DEFAULT_CHANNEL, type SendFrame } from '../../shared/protocol.ts';
import type { HistoryStore } from '../store/history-store.ts';
import { maySee } from './audience.ts';
import type { ChannelDirectory } from './channel-directory.ts';
import { keptMentions } from './mentions.ts';

export type SendContext =
  | {
      ok: true;
      /** A channel other than the default one; absent for the default channel and direct messages. */
      channel?: string;
      replyTo?: number;
      mentions: string[];
    }
  | { ok: false; code: ErrorCode; detail?: string };

export function sendContext(
  frame: SendFrame,
  sender: { id: string; channels: boolean },
  channels: ChannelDirectory,
  store: HistoryStore,
): SendContext {
  const to = frame.to ?? null;
  if (to !== null && frame.channel !== undefined)
    return { ok: false, code: 'BEACON_ERR_MALFORMED', detail: 'send: a direct message has no channel' };
  const channelId = frame.channel === DEFAULT_CHANNEL ? undefined : frame.channel;
  if (channelId !== undefined) {
    const channel = channels.get(channelId);
    if (!channel) return { ok: false, code: 'BEACON_ERR_NO_SUCH_CHANNEL' };
    if (channel.archived) return { ok: false, code: 'BEACON_ERR_CHANNEL_ARCHIVED' };
  } else if (to === null && channels.get(DEFAULT_CHANNEL)?.archived) {
    return { ok: false, code: 'BEACON_ERR_CHANNEL_ARCHIVED' };
  }
  if (frame.replyTo !== undefined) {
    const original = store.getMessage(frame.replyTo);
    const sameConversation =
      original !== undefined &&
      (to === null
        ? original.to === null && original.channel === channelId
        : (original.from === sender.id && original.to === to) || (original.from === to && original.to === sender.id));
    if (!original || original.deleted || !sameConversation || !maySee(original, sender.id, sender.channels))
      return { ok: false, code: 'BEACON_ERR_NO_SUCH_MESSAGE' };
  }
  return {
    ok: true,
    ...(channelId === undefined ? {} : { channel: channelId }),
    ...(frame.replyTo === undefined ? {} : { replyTo: frame.replyTo }),
    mentions: keptMentions(store, frame.mentions),
  };
}

import type { ChatMessage } from './protocol.ts';

/** A notification shows the start of a message, not all of it. */
export const NOTIFICATION_BODY_CHARS = 200;

/** True when `text` mentions `name` as a whole word (with or without @), ignoring case. */
export function mentions(text: string, name: string): boolean {
  if (name.trim().length === 0) return false;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\p{L}\\p{N}_])@?${escaped}(?![\\p{L}\\p{N}_])`, 'iu').test(text);
}

/**
 * Whether a message mentions me. A v1.5 message says whom it mentions (`mentions`, ids the host
 * kept): that list decides, so "Ana" written in passing, or another Ana, does not ping me. A
 * message from an older client has no list, and falls back to my name written in its text.
 */
export function mentionsMe(message: ChatMessage, me: { id: string; name: string }): boolean {
  if (message.deleted) return false;
  if (message.mentions !== undefined) return message.mentions.includes(me.id);
  return mentions(message.text, me.name);
}

/**
 * Whether a message deserves a desktop notification: someone else's direct
 * message to me, or a message of the room or one of its channels that
 * mentions me, while the window is not in front.
 */
export function shouldNotify(
  message: ChatMessage,
  me: { id: string; name: string },
  context: { windowFocused: boolean; notifyDirect: boolean; notifyMentions: boolean },
): boolean {
  if (context.windowFocused || message.from === me.id || message.deleted) return false;
  if (message.to === me.id) return context.notifyDirect;
  return message.to === null && context.notifyMentions && mentionsMe(message, me);
}

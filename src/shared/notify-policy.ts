import type { ChatMessage } from './protocol.ts';

/** True when `text` mentions `name` as a whole word (with or without @), ignoring case. */
/** A notification shows the start of a message, not all of it. */
export const NOTIFICATION_BODY_CHARS = 200;

export function mentions(text: string, name: string): boolean {
  if (name.trim().length === 0) return false;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\p{L}\\p{N}_])@?${escaped}(?![\\p{L}\\p{N}_])`, 'iu').test(text);
}

/**
 * Whether a message deserves a desktop notification: someone else's direct
 * message to me, or a room message that mentions my name, while the window
 * is not in front.
 */
export function shouldNotify(
  message: ChatMessage,
  me: { id: string; name: string },
  context: { windowFocused: boolean; notifyDirect: boolean; notifyMentions: boolean },
): boolean {
  if (context.windowFocused || message.from === me.id) return false;
  if (message.to === me.id) return context.notifyDirect;
  return message.to === null && context.notifyMentions && mentions(message.text, me.name);
}

/**
 * The window's own state, apart from the chat: which panel is open, whether
 * the narrow layout's sidebar is showing, and the colour theme. Nothing here
 * reaches the ChatApi.
 */
import type { ConversationId } from '../../../shared/chat-api.ts';
import { isChannelId, type FileRef } from '../../../shared/protocol.ts';
import type { ConversationsState } from './conversations.svelte.ts';

export type Panel = 'settings' | 'switcher' | 'shortcuts' | 'image';
export type Theme = 'system' | 'light' | 'dark';

const THEME_KEY = 'beacon.theme';

export function storedTheme(): Theme {
  try {
    const value = globalThis.localStorage?.getItem(THEME_KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}

/** Keeps the browser's theme choice (the desktop app keeps it in its settings file, and main applies it). */
export function storeTheme(theme: Theme): void {
  try {
    if (theme === 'system') localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, theme);
  } catch {
    // Storage can be off (private windows); the choice then lasts until reload.
  }
}

/** `system` leaves the choice to prefers-color-scheme; the others pin it (app.css reads data-theme). */
export function applyTheme(theme: Theme): void {
  if (typeof document === 'undefined') return;
  if (theme === 'system') delete document.documentElement.dataset['theme'];
  else document.documentElement.dataset['theme'] = theme;
}

/**
 * Asks the message list to do something it owns (the list belongs to the
 * messages components): `latest` scrolls to the newest message and follows
 * it again, `older` scrolls to the oldest message shown, which loads the page
 * before it. The list may handle the event and call preventDefault(); if
 * nothing does, the keyboard goes to the list and its scroller is moved the
 * way the End or Home key would move it, which the list's own scroll handling
 * then follows (a list that tells a person's scrolling from its own layout
 * sees the key press first).
 */
export const MESSAGE_LIST_COMMAND = 'beacon:message-list';
export type MessageListCommand = 'latest' | 'older';

export function commandMessageList(command: MessageListCommand): void {
  const list = document.querySelector<HTMLElement>('[data-testid="message-list"]');
  if (!list) return;
  const event = new CustomEvent<MessageListCommand>(MESSAGE_LIST_COMMAND, { detail: command, cancelable: true });
  if (!list.dispatchEvent(event)) return;
  const scroller = list.querySelector<HTMLElement>('[data-virtua-scroller]') ?? list;
  // Older messages are read with the keyboard from there (Page Up); the latest leaves it where it was.
  if (command === 'older') scroller.focus({ preventScroll: true });
  scroller.dispatchEvent(new KeyboardEvent('keydown', { key: command === 'latest' ? 'End' : 'Home', bubbles: true }));
  scroller.scrollTop = command === 'latest' ? scroller.scrollHeight : 0;
}

/** Puts the keyboard where the person will type next: the composer, or the messages if it cannot take input. */
export function focusComposer(): void {
  const input = document.querySelector<HTMLTextAreaElement>('[data-testid="composer-input"]');
  if (input && !input.disabled) {
    input.focus();
    return;
  }
  document.querySelector<HTMLElement>('[data-testid="message-list"] [tabindex="0"]')?.focus();
}

/** Whether a key press belongs to a text field (so single-key shortcuts must leave it alone). */
export function typingInField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target.matches('input:not([type=checkbox]):not([type=radio]), textarea, select');
}

/**
 * The conversations the sidebar lists, in its order: the room, then direct
 * conversations that exist (have messages, something on its way, unread, or
 * are open). Members without one are in the member list, not here.
 */
export function listedConversations(conversations: ConversationsState): ConversationId[] {
  return conversations.conversationIds.filter((id) => {
    if (isChannelId(id) || id === conversations.active) return true;
    const conv = conversations.conversation(id);
    return (
      (conv !== undefined && (conv.messages.length > 0 || conv.unread > 0)) || conversations.outgoing.in(id).length > 0
    );
  });
}

export class UiState {
  panel = $state<Panel | null>(null);
  /** The narrow layout's sidebar drawer; the wide layout always shows the sidebar. */
  sidebarOpen = $state(false);
  theme = $state<Theme>(storedTheme());
  /** The image the 'image' panel shows larger, and the conversation it was sent in. */
  viewing = $state.raw<{ file: FileRef; conversation: ConversationId } | null>(null);

  view(file: FileRef, conversation: ConversationId): void {
    this.viewing = { file, conversation };
    this.open('image');
  }

  open(panel: Panel): void {
    this.sidebarOpen = false;
    this.panel = panel;
  }

  close(): void {
    this.panel = null;
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    applyTheme(theme);
    storeTheme(theme);
  }
}

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
const mod = isMac ? '⌘' : 'Ctrl';

/** Every keyboard shortcut, as the shortcut help lists them; App's key handler does what each says. */
export const SHORTCUTS: readonly { keys: string[]; what: string }[] = [
  { keys: [`${mod}+K`], what: 'Go to a conversation or person (quick switcher)' },
  { keys: [`${mod}+F`], what: 'Search messages in every conversation' },
  { keys: ['Alt+↑', 'Alt+↓'], what: 'Previous or next conversation' },
  { keys: ['Alt+End'], what: 'Jump to the latest message' },
  { keys: ['Enter'], what: 'Send the message (Shift+Enter: new line)' },
  { keys: [`${mod}+V`], what: 'In the message box: paste a screenshot to send it' },
  { keys: ['Page Up', 'Page Down'], what: 'Scroll the messages (once focused); older messages load at the top' },
  { keys: ['Escape'], what: 'Close a panel, the switcher or the conversations list' },
  { keys: ['?', `${mod}+/`], what: 'Show these shortcuts' },
];

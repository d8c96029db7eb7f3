/**
 * The ChatApi inside a browser page served by a Beacon host: the shared
 * ChatFeed over the browser's own WebSocket, joining the host that served
 * the page. Hosting needs the desktop app.
 */
import * as v from 'valibot';
import {
  type AppSettings,
  type ChatApi,
  type ChatEvent,
  CommandSchemas,
  type ConnectionState,
  type LocalFile,
} from '../../shared/chat-api.ts';
import { checkDisplayName } from '../../shared/display-name.ts';
import { ChatFeed } from '../../shared/chat-feed.ts';
import { webFilePlatform } from '../../shared/file-web-platform.ts';
import { filePath, messageGist } from '../../shared/files.ts';
import { fail, ok } from '../../shared/result.ts';
import { NOTIFICATION_BODY_CHARS, shouldNotify } from '../../shared/notify-policy.ts';
import type { SocketFactory, SocketLike } from '../../shared/room-client.ts';
import type { Fingerprint } from '../../shared/fingerprint.ts';
import { fetchRoomInfo } from './components/start/room-info.ts';
import { pageSecurity } from './lib/security.ts';
import { storedTheme, storeTheme } from './state/ui.svelte.ts';

/** Settings only the desktop app has: a page has no login items, downloads folder or tray. */
const DESKTOP_ONLY = ['startAtLogin', 'hostAtLogin', 'downloadsFolder', 'closeWhileHosting'] as const;

const browserSocketFactory: SocketFactory = (url) => {
  const ws = new WebSocket(url);
  const socket: SocketLike = {
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
  };
  ws.onopen = () => socket.onopen?.();
  ws.onmessage = (event) => {
    if (typeof event.data === 'string') socket.onmessage?.(event.data);
  };
  // A browser says nothing about why a connection failed; RoomClient infers it from the close.
  ws.onerror = () => socket.onerror?.(undefined);
  ws.onclose = (event) => socket.onclose?.(event.code, event.reason);
  return socket;
};

/** Identity per name on this host, so a reload rejoins as the same member. */
const resumeKey = (name: string): string => `beacon:resume:${name}`;

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** This tab's session: the room it is in survives a reload of the tab, not its closing. */
function tabStorage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/** The name and code this tab last joined with, kept until it leaves on purpose. */
const SESSION_KEY = 'beacon:session';

function savedSession(): { name: string; code: string } | null {
  try {
    const value: unknown = JSON.parse(tabStorage()?.getItem(SESSION_KEY) ?? 'null');
    if (typeof value !== 'object' || value === null) return null;
    const { name, code } = value as { name?: unknown; code?: unknown };
    return typeof name === 'string' && typeof code === 'string' && name !== '' ? { name, code } : null;
  } catch {
    return null;
  }
}

export function createWebChatApi(): ChatApi {
  const listeners = new Set<(event: ChatEvent) => void>();
  const canNotify = typeof Notification !== 'undefined' && window.isSecureContext;
  let name = storage()?.getItem('beacon:name') ?? '';
  /** The name the join form fills in: the settings screen's, or the one joined with last. */
  let displayName = name;
  let preferences = { notifyDirect: true, notifyMentions: true };
  try {
    preferences = { ...preferences, ...JSON.parse(storage()?.getItem('beacon:preferences') ?? '{}') };
  } catch {
    // Damaged: defaults.
  }
  /** The code of the current room, kept with the session so a reload can get in again. */
  let code = '';
  /** The fingerprint the host states for itself (GET /room.json), for the person to compare. */
  let hostFingerprint: Fingerprint | null = null;
  /** The browser, not Beacon, secures this page's connection: a connected state says how, from the page's own address. */
  const withSecurity = (state: ConnectionState): ConnectionState =>
    state.kind === 'connected' && state.security === undefined
      ? { ...state, security: pageSecurity(location.protocol, hostFingerprint) }
      : state;
  const tell = (event: ChatEvent): void => listeners.forEach((listener) => listener(event));
  // Joining does not wait for it (a slow answer must not hold up the room): a connection that opened
  // first is told again once the fingerprint is known.
  void fetchRoomInfo().then((info) => {
    hostFingerprint = info?.fingerprint ?? null;
    const state = feed.client?.state;
    if (hostFingerprint !== null && state?.kind === 'connected')
      tell({ type: 'connection', state: withSecurity(state) });
  });
  const feed = new ChatFeed<LocalFile>({
    socketFactory: browserSocketFactory,
    files: webFilePlatform(),
    startInfo: () => ({ recentRooms: [], displayName }),
    emit: (raw) => {
      const event: ChatEvent = raw.type === 'connection' ? { ...raw, state: withSecurity(raw.state) } : raw;
      const token = feed.client?.token;
      if (event.type === 'welcome' && token) {
        storage()?.setItem(resumeKey(name), token);
        tabStorage()?.setItem(SESSION_KEY, JSON.stringify({ name, code }));
      }
      if (event.type === 'messages') for (const message of event.messages) notify(message);
      tell(event);
    },
  });

  function notify(message: Parameters<typeof shouldNotify>[0]): void {
    const me = feed.client?.me;
    if (!canNotify || !me || Notification.permission !== 'granted') return;
    const context = { windowFocused: document.hasFocus(), ...preferences };
    if (shouldNotify(message, me, context))
      new Notification('Beacon', { body: messageGist(message).slice(0, NOTIFICATION_BODY_CHARS) });
  }

  /**
   * A file of this room on the page's own origin, with the file token in the query (an <img> and
   * the browser's own download cannot send a header); null when the room takes no files.
   */
  function sameOriginFileUrl(id: string, download = false): string | null {
    const access = feed.fileAccess();
    if (!access) return null;
    const query = new URLSearchParams({ t: access.token, ...(download ? { download: '1' } : {}) });
    return `${filePath(id)}?${query}`;
  }

  const roomAddress = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;

  /** The settings screen's values: the name, notifications and theme in this browser's storage. */
  const settings = (): AppSettings => ({
    displayName,
    ...preferences,
    theme: storedTheme(),
    startAtLogin: false,
    hostAtLogin: false,
    downloadsFolder: null,
    closeWhileHosting: 'ask',
  });

  function join(input: { name: string; code: string }): ReturnType<ChatFeed['join']> {
    name = input.name;
    displayName = name;
    code = input.code;
    storage()?.setItem('beacon:name', name);
    const token = storage()?.getItem(resumeKey(name)) || undefined;
    // The page can only join the host that served it, whatever address was typed.
    return feed.join({
      address: roomAddress,
      name: input.name,
      code: input.code,
      resume: token ? { token, lastSeq: 0 } : undefined,
    });
  }

  // A reload of a tab that was in the room goes back in as the same member, without the join form.
  const session = savedSession();
  if (session) {
    void join(session).then((result) => {
      if (!result.ok && result.error.code !== 'BEACON_ERR_CANCELLED') tabStorage()?.removeItem(SESSION_KEY);
    });
  }
  // A closed (or reloaded) tab leaves at once: the others see "left", not "reconnecting" for a while.
  window.addEventListener('pagehide', () => feed.client?.close());
  // A page brought back from the back/forward cache left the room on its way out: load it afresh, which resumes.
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) location.reload();
  });

  return {
    capabilities: { host: false, notifications: canNotify, desktopSettings: false },
    host: async () => fail('BEACON_ERR_INVALID_INPUT', 'Hosting a room needs the Beacon desktop app.'),
    async join(input) {
      if (canNotify && Notification.permission === 'default') void Notification.requestPermission();
      return join(input);
    },
    leave: async () => {
      tabStorage()?.removeItem(SESSION_KEY);
      feed.leave();
      return ok(null);
    },
    send: async ({ conversation, text, ...options }) => feed.send(conversation, text, options),
    // v1.5 conversations: the feed asks the host; each answers once the host has done it.
    edit: (input) => feed.edit(input),
    deleteMessage: (input) => feed.deleteMessage(input),
    react: (input) => feed.react(input),
    createChannel: (input) => feed.createChannel(input),
    updateChannel: (input) => feed.updateChannel(input),
    archiveChannel: (input) => feed.archiveChannel(input),
    search: (input) => feed.search(input),
    loadAround: async (input) => feed.loadAround(input.conversation, input.seq),
    // v1.6 large rooms: the page checks nothing for the host (it checks every frame itself).
    members: (input) => feed.members(input),
    watchMembers: (input) => feed.watchMembers(input),
    // The settings screen (issue 15).
    getSettings: async () => ok(settings()),
    // Checked as main's bridge and DesktopChat check it: the contract's schema, then the host's name rules.
    setSettings: async (input) => {
      const parsed = v.safeParse(CommandSchemas.setSettings, input);
      if (!parsed.success) return fail('BEACON_ERR_INVALID_INPUT', parsed.issues[0].message);
      const change = parsed.output;
      if (DESKTOP_ONLY.some((key) => change[key] !== undefined))
        return fail('BEACON_ERR_INVALID_INPUT', 'That setting needs the Beacon desktop app.');
      if (change.displayName !== undefined) {
        const check = checkDisplayName(change.displayName);
        if (!check.ok) return fail('BEACON_ERR_INVALID_INPUT', check.reason);
        displayName = check.name;
        storage()?.setItem('beacon:name', displayName);
      }
      if (change.notifyDirect !== undefined || change.notifyMentions !== undefined) {
        preferences = {
          notifyDirect: change.notifyDirect ?? preferences.notifyDirect,
          notifyMentions: change.notifyMentions ?? preferences.notifyMentions,
        };
        storage()?.setItem('beacon:preferences', JSON.stringify(preferences));
      }
      if (change.theme !== undefined) storeTheme(change.theme);
      return ok(settings());
    },
    chooseDownloadsFolder: async () =>
      fail('BEACON_ERR_INVALID_INPUT', 'Your browser decides where downloads go (in its own settings).'),
    retry: async (input) => feed.retry(input.clientId),
    retryNow: async () => feed.retryNow(),
    retryWithCode: async (input) => {
      code = input.code;
      return feed.retryWithCode(input.code);
    },
    // The browser checks the host's certificate itself; a page cannot change what it trusts.
    trustHost: async () => fail('BEACON_ERR_INVALID_INPUT'),
    typing: async (input) => feed.typing(input.conversation),
    setStatus: async (input) => feed.setStatus(input.status),
    loadOlder: async (input) => feed.loadOlder(input.conversation, input.before),
    reportUnread: async (input) => {
      document.title = input.total > 0 ? `Beacon (${input.total})` : 'Beacon';
      return ok(null);
    },
    getState: async () => {
      const snapshot = feed.snapshot();
      return ok({
        ...snapshot,
        connection: withSecurity(snapshot.connection),
        hostInfo: null,
        displayName,
        recentRooms: [],
        preferences,
      });
    },
    sendFiles: async (input) =>
      feed.sendFiles(
        input.conversation,
        input.text,
        input.files.map(({ file, image, preview }) => ({
          file,
          name: file.name,
          size: file.size,
          type: file.type,
          ...(image ? { image } : {}),
          ...(preview ? { preview: { ...preview, size: preview.file.size, type: preview.file.type } } : {}),
        })),
      ),
    cancelTransfer: (input) => feed.cancelTransfer(input.id),
    retryTransfer: async (input) => feed.retryTransfer(input.id),
    // The browser's own download: it shows it, names it (from the host's Content-Disposition) and resumes it.
    download: async (input) => {
      const url = sameOriginFileUrl(input.fileId, true);
      if (!url) return fail('BEACON_ERR_NO_FILES');
      const anchor = document.createElement('a');
      anchor.href = url;
      anchor.download = '';
      anchor.rel = 'noopener';
      document.body.append(anchor);
      anchor.click();
      anchor.remove();
      return ok(null);
    },
    // Where a browser saved a file is the browser's business.
    showInFolder: async () => fail('BEACON_ERR_INVALID_INPUT', 'Your browser shows its downloads itself.'),
    fileUrl: (file, variant) => sameOriginFileUrl(variant === 'preview' && file.preview ? file.preview.id : file.id),
    setPreferences: async (input) => {
      preferences = { ...input };
      storage()?.setItem('beacon:preferences', JSON.stringify(preferences));
      return ok(null);
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

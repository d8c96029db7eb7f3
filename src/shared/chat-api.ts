/**
 * The contract between the interface and the chat behind it: every command the
 * UI can call and every event it receives. The Electron preload, the IPC
 * bridge in main and the in-browser ChatFeed all type-check against it.
 */
import * as v from 'valibot';
import type { ErrorCode } from './errors.ts';
import type { NearbyRoom, NearbyStatus } from './discovery.ts';
import type { Fingerprint } from './fingerprint.ts';
import {
  type Channel,
  ChannelId,
  type ChatMessage,
  Emoji,
  FileId,
  MAX_PORT,
  type Member,
  type PresenceEvent,
  type SearchHit,
  type Update,
  WIRE_LIMITS,
} from './protocol.ts';
import type { FileRef } from './protocol.ts';

/**
 * 'room' (the default channel), a channel id ("c_…", v1.5), or the member id ("m_…") of the other
 * person in a direct conversation. isChannelId (protocol.ts) tells them apart.
 */
export type ConversationId = string;
export const ROOM: ConversationId = 'room';

export type Result<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      /** `retryAfterMs`: the host will refuse again for this long (a lockout), when it said so. */
      error: { code: ErrorCode; message: string; retryAfterMs?: number };
    };

/**
 * Whether the connection to the host is encrypted, and how the host was recognised:
 * - 'invite': the fingerprint came with the invite and the host's certificate matched it;
 * - 'remembered': it matched the fingerprint kept from an earlier visit;
 * - 'first-use': nothing was known, so this fingerprint is now trusted (and remembered);
 * - 'browser': the browser checked the certificate (after its warning); `fingerprint` is
 *   the one the host states, for the person to compare with what the browser shows.
 */
export type ConnectionSecurity =
  | { encrypted: false }
  | { encrypted: true; fingerprint: Fingerprint; trust: 'invite' | 'remembered' | 'first-use' | 'browser' };

export type ConnectionState =
  | { kind: 'idle' }
  | { kind: 'connecting'; address: string; attempt: number }
  | { kind: 'connected'; address: string; rttMs: number | null; security?: ConnectionSecurity }
  | {
      kind: 'reconnecting';
      address: string;
      attempt: number;
      /** Epoch milliseconds of the next attempt. */
      nextRetryAt: number;
      reason: ErrorCode;
      reasonText: string;
    }
  | {
      kind: 'offline';
      address: string;
      reason: ErrorCode;
      reasonText: string;
      /** Epoch milliseconds of the next background attempt, or null when Beacon will not retry by itself. */
      nextRetryAt: number | null;
      /** Epoch milliseconds before which the host will refuse again (a lockout), when it said so. */
      retryAfter?: number;
      /** With BEACON_ERR_HOST_CHANGED: the fingerprint expected and the one the answering machine showed. */
      fingerprints?: { expected: Fingerprint; presented: Fingerprint };
    };

export type MessageStatus = 'pending' | 'sent' | 'failed';

/** One of this user's own messages that the host has not acknowledged yet (or refused). */
export interface OutgoingMessage {
  clientId: string;
  conversation: ConversationId;
  text: string;
  ts: number;
  status: MessageStatus;
  error?: string;
  /** Ids of the upload transfers whose files go with this message (sent once they have all finished). */
  transfers?: string[];
  /** v1.5: the seq of the message this one answers. */
  replyTo?: number;
  /** v1.5: ids of the members it mentions. */
  mentions?: string[];
}

/**
 * One file going up or down, with what a progress bar shows. Uploads belong to the outgoing
 * message (`clientId`) they will be sent with; a download to the file it fetches.
 *
 * - 'preparing': reading the file (its SHA-256, a preview) before the first byte goes;
 * - 'active': bytes are moving;
 * - 'waiting': the host cannot be reached (or refused for now, BEACON_ERR_TOO_MANY_UPLOADS): it
 *   resumes where it stopped by itself;
 * - 'done', 'failed' (with `error`; retryTransfer resumes it), 'cancelled'.
 */
export type TransferState = 'preparing' | 'active' | 'waiting' | 'done' | 'failed' | 'cancelled';

export interface Transfer {
  id: string;
  direction: 'upload' | 'download';
  conversation: ConversationId;
  /** Upload: the outgoing message's clientId. */
  clientId?: string;
  /** The stored file: known for a download, and for an upload once the host has it. */
  fileId?: string;
  name: string;
  size: number;
  doneBytes: number;
  /** Measured over the last few seconds; null before there is anything to measure. */
  bytesPerSecond: number | null;
  secondsLeft: number | null;
  state: TransferState;
  error?: { code: ErrorCode; message: string };
  /** Desktop download, once done: the file saved in the downloads folder (for "Show in folder"). */
  savedTo?: string;
}

/**
 * A file picked, dropped or pasted, as the interface has it: the subset of the DOM's File that
 * both the browser client and the desktop preload need (a File is one).
 */
export interface LocalFile {
  readonly name: string;
  readonly size: number;
  readonly type: string;
  slice(start?: number, end?: number, contentType?: string): Blob;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** What the interface sends: files (images with their measured size and a small preview) and a caption. */
export interface SendFilesInput {
  conversation: ConversationId;
  /** The caption; may be empty. */
  text: string;
  files: {
    file: LocalFile;
    /** An image's size in pixels, measured in the renderer. */
    image?: { width: number; height: number };
    /** A small WebP or JPEG made in the renderer (PREVIEW_LIMITS), uploaded first. */
    preview?: { file: LocalFile; width: number; height: number };
  }[];
}

export interface HostInfo {
  roomName: string;
  port: number;
  code: string | null;
  /** wss:// URLs colleagues can join with, one per network interface (ws:// for an --insecure host). */
  addresses: string[];
  /** https:// URLs a browser can open (http:// for an --insecure host). */
  webAddresses: string[];
  /** The host's certificate fingerprint; null when the host runs without encryption. */
  fingerprint: Fingerprint | null;
  /** What "Copy invite" copies: the first browser address with the fingerprint after '#fp=' (see address.ts). */
  invite: string | null;
}

export interface RecentRoom {
  address: string;
  roomName: string;
  code: string;
  name: string;
  lastJoined: number;
  /** The host's fingerprint as first trusted (pinned): a later join expects the same. */
  fingerprint?: Fingerprint;
}

export interface Capabilities {
  /** Only the desktop app can host. */
  host: boolean;
  notifications: boolean;
  /** Desktop only: start at login, a downloads folder (the settings screen shows them only then). */
  desktopSettings: boolean;
}

/**
 * The settings screen's values (issue 15). The browser keeps displayName, the notification choices
 * and the theme in its own storage; the rest exist only in the desktop app.
 */
export interface AppSettings {
  /** The name filled in when joining or hosting. */
  displayName: string;
  notifyDirect: boolean;
  notifyMentions: boolean;
  theme: 'system' | 'light' | 'dark';
  /** Desktop: open Beacon when the user logs in (off by default). */
  startAtLogin: boolean;
  /** Desktop, with startAtLogin: host the room hosted last again at login. */
  hostAtLogin: boolean;
  /** Desktop: where downloads are saved; null for the system's Downloads folder. */
  downloadsFolder: string | null;
  /** Desktop: closing the window while hosting: ask (first time), keep the room in the tray, or stop. */
  closeWhileHosting: 'ask' | 'keep' | 'stop';
}

export interface RoomView {
  name: string;
  you: Member;
  members: Member[];
  /**
   * Names of people the history mentions who may have left, by member id
   * (from the host, protocol v1.1): the author of an old message keeps a name.
   */
  names?: Record<string, string>;
  /** v1.5: every channel, the default ("room") first, archived ones included; absent from older hosts. */
  channels?: Channel[];
  /** v1.5: what the host can do ('channels', 'replies', 'edits', 'reactions', 'mentions', 'search'). */
  features?: string[];
  /** v1.5: whether this member may create channels. */
  canCreateChannels?: boolean;
  /** v1.5: whether this member may rename and archive any channel (joined from the host's machine). */
  isHost?: boolean;
  /** v1.6: how many are in the room (`online`: not reconnecting); absent from older hosts (count `members`). */
  memberCount?: { total: number; online: number };
  /**
   * v1.6: `members` is only part of the room (you, your direct-conversation partners, the first page by
   * name): the member list pages the rest with `members`, and presence comes only for the members
   * watched with `watchMembers` (and your partners). Absent or false: `members` is everyone.
   */
  membersPartial?: boolean;
}

/** The room this app hosted last: hosting "the same room" again keeps its name, port and join code. */
export interface LastHosted {
  roomName: string;
  port: number;
  code: string;
}

/** When to show a desktop notification (kept in the settings file). */
export interface NotificationPreferences {
  notifyDirect: boolean;
  notifyMentions: boolean;
}

/** Everything an interface that (re)loads needs to show where things stand; events then keep it current. */
export interface ChatSnapshot {
  connection: ConnectionState;
  room: RoomView | null;
  history: ChatMessage[];
  hasMore: boolean;
  outgoing: OutgoingMessage[];
  hostInfo: HostInfo | null;
  displayName: string;
  recentRooms: RecentRoom[];
  preferences: NotificationPreferences;
  /** Desktop only: the room hosted last, to offer again. */
  lastHosted?: LastHosted | null;
  /** Desktop only: rooms announced on the local network (discovery), and where browsing stands. */
  nearby?: { rooms: NearbyRoom[]; status: NearbyStatus };
  /** Uploads and downloads of this session not yet cleared. */
  transfers?: Transfer[];
  /** Whether this room takes files (its welcome said so), and the largest it takes. */
  files?: { maxFileBytes: number } | null;
}

/**
 * Every fact reaches the interface once, as one event, in the order it
 * happened: a command's reply only says whether it was taken.
 */
export type ChatEvent =
  | { type: 'connection'; state: ConnectionState }
  | {
      type: 'welcome';
      room: RoomView;
      history: ChatMessage[];
      hasMore: boolean;
      resumed: boolean;
      /** Whether this room takes files, and the largest it takes (v1.4 hosts); null when it takes none. */
      files?: { maxFileBytes: number } | null;
      /** v1.5, on a resume: edits, deletions, reactions and channel changes missed while away. */
      updates?: Update[];
    }
  /**
   * v1.5: edits, deletions, reactions and channel changes, live or caught up, oldest first. Each is
   * idempotent; one for a message the interface does not hold is dropped (pages carry the current state).
   */
  | { type: 'updates'; updates: Update[] }
  | { type: 'presence'; event: PresenceEvent; member: Member }
  /**
   * v1.6: the room's counts changed (at most once a second). `complete` false: the room is large and
   * only watched members' presence arrives (RoomView.membersPartial); turning true again: ask for the
   * whole list anew with `members`.
   */
  | { type: 'roster'; total: number; online: number; complete: boolean }
  /** New messages: one that arrived live, or a whole page of what was missed while away. */
  | { type: 'messages'; messages: ChatMessage[]; names?: Record<string, string> }
  /** One of this user's own messages, as it was queued (pending) or refused at once (failed). */
  | { type: 'outgoing'; message: OutgoingMessage }
  | {
      type: 'messageStatus';
      clientId: string;
      status: MessageStatus;
      seq?: number;
      error?: string;
      /** With 'sent': the host's record of the message's files. */
      files?: FileRef[];
    }
  | { type: 'typing'; from: string; conversation: ConversationId }
  /** An older page, asked for with loadOlder (or loadAround). */
  | {
      type: 'history';
      conversation: ConversationId;
      messages: ChatMessage[];
      hasMore: boolean;
      names?: Record<string, string>;
    }
  | { type: 'hostInfo'; info: HostInfo | null }
  /** Rooms nearby changed (one appeared, changed or vanished), or browsing's status did: the whole list. */
  | { type: 'nearby'; rooms: NearbyRoom[]; status: NearbyStatus }
  /** A beacon: link was opened (desktop): show the join form filled in with it. */
  | { type: 'openInvite'; address: string; code: string | null }
  | { type: 'error'; code: ErrorCode; message: string }
  /** One of this user's messages will not go after all (its uploads were cancelled): it leaves the screen. */
  | { type: 'withdrawn'; clientId: string }
  /** A transfer started, moved on (at most a few times a second) or ended: its whole state. */
  | { type: 'transfer'; transfer: Transfer }
  | { type: 'openConversation'; conversation: ConversationId }
  /** Back at the start screen: what it shows now (the room just left is first among the recent rooms). */
  | { type: 'left'; recentRooms: RecentRoom[]; displayName: string; lastHosted?: LastHosted | null };

/** What `send` answers: the message itself arrives as an `outgoing` event. */
export interface SendReceipt {
  clientId: string;
}

/** What `members` and `watchMembers` answer (v1.6): `members` from position `offset` of `total` that match. */
export interface MembersAnswer {
  members: Member[];
  offset: number;
  total: number;
}

/** What `search` answers (v1.5): the newest hits first; ask again with `before` for older ones. */
export interface SearchAnswer {
  hits: SearchHit[];
  hasMore: boolean;
  names: Record<string, string>;
}

// ── command payloads, validated where they enter main ───────────────────────

const Name = v.pipe(v.string(), v.trim(), v.minLength(1, 'Enter your name.'), v.maxLength(WIRE_LIMITS.nameChars));
const Code = v.pipe(v.string(), v.trim(), v.maxLength(WIRE_LIMITS.codeChars));
const Conversation = v.pipe(v.string(), v.minLength(1), v.maxLength(WIRE_LIMITS.idChars));
const TransferId = v.pipe(v.string(), v.minLength(1), v.maxLength(WIRE_LIMITS.idChars));
const Pixels = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65_535));
/**
 * A file as the desktop preload hands it to main: the path of a dropped or picked file (Electron's
 * webUtils.getPathForFile; a page cannot make one up, it only has File objects), or the bytes of a
 * pasted one that has no path. Main reads nothing else from disk.
 */
const FileSource = v.union([
  v.object({ path: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)) }),
  v.object({ bytes: v.instance(Uint8Array) }),
]);
const FileName = v.pipe(v.string(), v.minLength(1), v.maxLength(WIRE_LIMITS.fileNameChars));
const Seq = v.pipe(v.number(), v.integer(), v.minValue(0));
const MemberId = v.pipe(v.string(), v.minLength(1), v.maxLength(WIRE_LIMITS.idChars));
const Mentions = v.pipe(v.array(MemberId), v.maxLength(WIRE_LIMITS.mentionsPerMessage));
const Timestamp = v.pipe(v.number(), v.integer(), v.minValue(0));
const ChannelName = v.pipe(
  v.string(),
  v.trim(),
  v.minLength(1, 'Enter a channel name.'),
  v.maxLength(WIRE_LIMITS.channelNameChars),
);
const ChannelTopic = v.pipe(v.string(), v.trim(), v.maxLength(WIRE_LIMITS.channelTopicChars));
const MediaType = v.pipe(v.string(), v.maxLength(WIRE_LIMITS.fileTypeChars));

export const CommandSchemas = {
  host: v.object({
    roomName: v.pipe(
      v.string(),
      v.trim(),
      v.minLength(1, 'Enter a room name.'),
      v.maxLength(WIRE_LIMITS.roomNameChars),
    ),
    name: Name,
    port: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_PORT)),
    code: Code,
  }),
  join: v.object({ address: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(300)), name: Name, code: Code }),
  leave: v.undefined(),
  send: v.object({
    conversation: Conversation,
    text: v.pipe(v.string(), v.maxLength(WIRE_LIMITS.textChars)),
    /** v1.5: the seq of the message this one answers, in the same conversation. */
    replyTo: v.optional(Seq),
    /** v1.5: member ids mentioned (the text says @Name for each). */
    mentions: v.optional(Mentions),
  }),
  retry: v.object({ clientId: v.pipe(v.string(), v.minLength(1), v.maxLength(WIRE_LIMITS.idChars)) }),
  retryNow: v.undefined(),
  /** Tries again now with a new join code (the host restarted with another one). */
  retryWithCode: v.object({ code: Code }),
  /**
   * After BEACON_ERR_HOST_CHANGED, once the person has checked with the host: trust this fingerprint
   * for the room (replacing the remembered one) and join again.
   */
  trustHost: v.object({ fingerprint: v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/)) }),
  typing: v.object({ conversation: Conversation }),
  setStatus: v.object({ status: v.picklist(['online', 'away']) }),
  loadOlder: v.object({ conversation: Conversation, before: v.pipe(v.number(), v.integer(), v.minValue(0)) }),
  /** The interface's unread total, for the window title and the dock or taskbar badge. */
  reportUnread: v.object({ total: v.pipe(v.number(), v.integer(), v.minValue(0)) }),
  getState: v.undefined(),
  setPreferences: v.object({ notifyDirect: v.boolean(), notifyMentions: v.boolean() }),
  /** SendFilesInput as it crosses from the desktop preload to main (see FileSource). */
  sendFiles: v.object({
    conversation: Conversation,
    text: v.pipe(v.string(), v.maxLength(WIRE_LIMITS.textChars)),
    files: v.pipe(
      v.array(
        v.object({
          name: FileName,
          type: MediaType,
          size: v.pipe(v.number(), v.integer(), v.minValue(0)),
          source: FileSource,
          image: v.optional(v.object({ width: Pixels, height: Pixels })),
          preview: v.optional(
            v.object({ bytes: v.instance(Uint8Array), type: MediaType, width: Pixels, height: Pixels }),
          ),
        }),
      ),
      v.minLength(1),
      v.maxLength(WIRE_LIMITS.filesPerMessage),
    ),
  }),
  cancelTransfer: v.object({ id: TransferId }),
  /** Resumes a failed transfer where it stopped. */
  retryTransfer: v.object({ id: TransferId }),
  /** Desktop: fetches a file into the downloads folder. A browser uses the browser's own download. */
  download: v.object({ fileId: FileId, conversation: Conversation }),
  /** Desktop: shows a finished download in the system's file manager. */
  showInFolder: v.object({ id: TransferId }),
  // ── v1.5 conversations: each answers once the host has done it (or refused), the change itself
  // arriving as an 'updates' event; offline they fail at once with BEACON_ERR_OFFLINE.
  edit: v.object({
    seq: Seq,
    text: v.pipe(v.string(), v.maxLength(WIRE_LIMITS.textChars)),
    mentions: v.optional(Mentions),
  }),
  deleteMessage: v.object({ seq: Seq }),
  react: v.object({ seq: Seq, emoji: Emoji, on: v.boolean() }),
  createChannel: v.object({ name: ChannelName, topic: ChannelTopic }),
  updateChannel: v.object({ id: ChannelId, name: v.optional(ChannelName), topic: v.optional(ChannelTopic) }),
  archiveChannel: v.object({ id: ChannelId, archived: v.boolean() }),
  search: v.object({
    query: v.pipe(
      v.string(),
      v.trim(),
      v.minLength(1, 'Type something to search for.'),
      v.maxLength(WIRE_LIMITS.searchQueryChars),
    ),
    conversation: v.optional(Conversation),
    from: v.optional(MemberId),
    since: v.optional(Timestamp),
    until: v.optional(Timestamp),
    before: v.optional(Seq),
  }),
  /**
   * v1.5: loads the page of `conversation` that holds message `seq` (a reply's quote or a search hit
   * opened in place), as a 'history' event of the messages around it.
   */
  loadAround: v.object({ conversation: Conversation, seq: Seq }),
  /**
   * v1.6: a page of the member list by name, optionally only names containing `query`. Strict: every
   * field is optional, so only refusing unknown keys tells a malformed request from a plain one.
   */
  members: v.strictObject({
    query: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(WIRE_LIMITS.nameChars))),
    offset: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000))),
    limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(WIRE_LIMITS.membersPage))),
  }),
  /** v1.6: the members whose presence should arrive live (the rows on screen), replacing the last set. */
  watchMembers: v.object({ ids: v.pipe(v.array(MemberId), v.maxLength(WIRE_LIMITS.membersPage)) }),
  // ── settings (issue 15)
  getSettings: v.undefined(),
  /** Changes some settings; answers all of them as saved. Strict: a key it does not know is refused, not ignored. */
  setSettings: v.strictObject({
    displayName: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(WIRE_LIMITS.nameChars))),
    notifyDirect: v.optional(v.boolean()),
    notifyMentions: v.optional(v.boolean()),
    theme: v.optional(v.picklist(['system', 'light', 'dark'])),
    startAtLogin: v.optional(v.boolean()),
    hostAtLogin: v.optional(v.boolean()),
    /** null: back to the system's Downloads folder. A folder is chosen with chooseDownloadsFolder. */
    downloadsFolder: v.optional(v.null()),
    closeWhileHosting: v.optional(v.picklist(['ask', 'keep', 'stop'])),
  }),
  /** Desktop: the system's folder picker; answers the settings with the folder chosen (unchanged if cancelled). */
  chooseDownloadsFolder: v.undefined(),
} as const;

type Schemas = typeof CommandSchemas;
export type CommandName = keyof Schemas;
export type CommandInput<K extends CommandName> = v.InferOutput<Schemas[K]>;

interface CommandOutputs {
  host: HostInfo;
  join: null;
  leave: null;
  send: SendReceipt;
  retry: null;
  retryNow: null;
  retryWithCode: null;
  trustHost: null;
  typing: null;
  setStatus: null;
  loadOlder: null;
  reportUnread: null;
  getState: ChatSnapshot;
  setPreferences: null;
  sendFiles: SendReceipt;
  cancelTransfer: null;
  retryTransfer: null;
  download: null;
  showInFolder: null;
  edit: null;
  deleteMessage: null;
  react: null;
  createChannel: Channel;
  updateChannel: Channel;
  archiveChannel: Channel;
  search: SearchAnswer;
  loadAround: null;
  members: MembersAnswer;
  watchMembers: MembersAnswer;
  getSettings: AppSettings;
  setSettings: AppSettings;
  chooseDownloadsFolder: AppSettings;
}
export type CommandOutput<K extends CommandName> = CommandOutputs[K];

/** Every command as a function: `undefined`-input commands take no argument. */
export type ChatCommands = {
  [K in CommandName]: CommandInput<K> extends undefined
    ? () => Promise<Result<CommandOutput<K>>>
    : (input: CommandInput<K>) => Promise<Result<CommandOutput<K>>>;
};

/**
 * What the interface calls. `sendFiles` takes the files as the page has them; the desktop preload
 * turns them into CommandSchemas.sendFiles for main, the browser client uploads them itself.
 */
export interface ChatApi extends Omit<ChatCommands, 'sendFiles'> {
  sendFiles(input: SendFilesInput): Promise<Result<SendReceipt>>;
  /**
   * Where the interface loads a file from for an <img> (`variant` 'preview': the sender's small
   * preview when there is one), or null when this room shares no files: the host's own URL in a
   * browser, a beacon-file: URL that main serves in the desktop app.
   */
  fileUrl(file: FileRef, variant: 'preview' | 'full'): string | null;
  readonly capabilities: Capabilities;
  /** Subscribes to chat events; returns the unsubscribe function. */
  onEvent(listener: (event: ChatEvent) => void): () => void;
}

/**
 * Beacon wire protocol v1: the one contract between a host and its clients.
 * Every frame is a UTF-8 JSON text frame holding one object with a `type`.
 * docs/PROTOCOL.md is the prose version of this file; keep them together.
 */
import * as v from 'valibot';

export const PROTOCOL_VERSION = 1;
export const DEFAULT_PORT = 4747;
/** The highest TCP port. */
export const MAX_PORT = 65_535;

/** Close codes used on the wire. The close reason carries the stable error code. */
export const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  /** Sent by ws itself for a text frame that is not valid UTF-8. */
  INVALID_DATA: 1007,
  POLICY: 1008,
  TOO_LARGE: 1009,
  /** Something failed inside the host while handling this connection's frame; the host itself is fine. */
  INTERNAL: 1011,
  /** Joining too often from one address: retry later, with backoff. */
  TRY_AGAIN_LATER: 1013,
  WRONG_CODE: 4001,
  LOCKED_OUT: 4002,
  VERSION: 4003,
  HELLO_TIMEOUT: 4004,
  REPLACED: 4005,
  SLOW_READER: 4006,
  BAD_NAME: 4007,
} as const;

/** Upper bounds every peer enforces, whatever the host's options say. */
export const WIRE_LIMITS = {
  nameChars: 40,
  /** A room's name as the host form takes it (the welcome carries it as the host chose it). */
  roomNameChars: 60,
  codeChars: 64,
  idChars: 64,
  textChars: 16_000,
  historyPage: 500,
  /** Files one message may carry (v1.4). */
  filesPerMessage: 10,
  /** A file's name as the host stores and sends it, in UTF-16 code units (v1.4). */
  fileNameChars: 255,
  /** A file's media type as its sender declared it, for display only (v1.4). */
  fileTypeChars: 100,
  /**
   * Arrays and objects nested deeper than this are refused before they are
   * parsed. Real frames nest 4 deep (batch → welcome → history → message);
   * a frame nested thousands deep once crashed the host.
   */
  nestingDepth: 16,
  /** A channel's name and topic (v1.5). */
  channelNameChars: 40,
  channelTopicChars: 250,
  /** Members one message may mention (v1.5). */
  mentionsPerMessage: 50,
  /** One reaction: a single emoji, as a string of at most this many UTF-16 code units (v1.5). */
  emojiChars: 32,
  /** A search query (v1.5). */
  searchQueryChars: 200,
  searchPage: 50,
  /** The start of a replied-to message that a reply carries as its quote (v1.5). */
  quoteChars: 200,
  /** Members one `members` page (and one `watch`) may hold (v1.6). */
  membersPage: 200,
} as const;

/** Messages in a page of older history unless asked otherwise (and in a newcomer's welcome). */
export const DEFAULT_HISTORY_PAGE = 100;

/**
 * The room limits a welcome announces, as a host runs them unless its
 * operator changes them. A client assumes these until its first welcome.
 */
export const DEFAULT_ROOM_LIMITS = {
  /** Largest frame; larger ones close the connection with 1009. 64 KiB holds a long pasted log. */
  maxMessageBytes: 64 * 1024,
  /** The host pings every member this often. */
  pingIntervalMs: 5_000,
  /** Sustained messages per second per member. */
  messagesPerSecond: 20,
  messageBurst: 40,
} as const;

/** Text must be well-formed UTF-16: a lone surrogate cannot be stored as UTF-8, so it would come back changed. */
const WellFormed = v.check((text: string) => text.isWellFormed(), 'not well-formed Unicode (lone surrogate)');
const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(WIRE_LIMITS.idChars));
const Name = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(WIRE_LIMITS.nameChars), WellFormed);
const Seq = v.pipe(v.number(), v.integer(), v.minValue(0));
const Text = v.pipe(v.string(), v.maxLength(WIRE_LIMITS.textChars), WellFormed);
const Timestamp = v.pipe(v.number(), v.integer(), v.minValue(0));
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));

export const MemberStatus = v.picklist(['online', 'away', 'reconnecting']);
export type MemberStatus = v.InferOutput<typeof MemberStatus>;

export const Member = v.object({
  id: Id,
  name: Name,
  status: MemberStatus,
  joinedAt: Timestamp,
});
export type Member = v.InferOutput<typeof Member>;

/** A stored file's id: "f_" and 22 base64url characters (128 random bits), unguessable (v1.4). */
export const FileId = v.pipe(v.string(), v.regex(/^f_[A-Za-z0-9_-]{22}$/));
const Pixels = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65_535));

/**
 * A file a message carries, as the host stored it (v1.4). Everything here is the host's: the name
 * sanitised, the size and SHA-256 of the bytes it received, and `image` only when the host itself
 * read a PNG, JPEG, GIF or WebP header (the dimensions, so a list can reserve the space before
 * loading). `type` is the sender's declared media type, shown as a label and never used to serve.
 */
export const FileRef = v.object({
  id: FileId,
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(WIRE_LIMITS.fileNameChars)),
  size: v.pipe(v.number(), v.integer(), v.minValue(0)),
  type: v.pipe(v.string(), v.maxLength(WIRE_LIMITS.fileTypeChars)),
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  image: v.optional(v.object({ width: Pixels, height: Pixels })),
  /** A small image the sender made of this one (its own stored file), to show in the list. */
  preview: v.optional(v.object({ id: FileId, width: Pixels, height: Pixels })),
});
export type FileRef = v.InferOutput<typeof FileRef>;

/**
 * A channel's id (v1.5): "c_" and 16 lower-case letters or digits. The room's default channel has the
 * id "room" and is the one every message without a `channel` belongs to (so v1.4 clients, which
 * know no channels, see exactly the default channel).
 */
export const DEFAULT_CHANNEL = 'room';
export const ChannelId = v.pipe(v.string(), v.regex(/^(room|c_[0-9a-z]{16})$/));
/** True for a channel id (the default "room" or "c_…"), false for a member id (a direct conversation). */
export const isChannelId = (id: string): boolean => id === DEFAULT_CHANNEL || /^c_[0-9a-z]{16}$/.test(id);

export const Channel = v.object({
  id: ChannelId,
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(WIRE_LIMITS.channelNameChars)),
  topic: v.pipe(v.string(), v.maxLength(WIRE_LIMITS.channelTopicChars)),
  /** The member who made it; null for the default channel. */
  createdBy: v.nullable(Id),
  createdAt: Timestamp,
  /** An archived channel keeps its history (readable and searchable) but takes no new messages. */
  archived: v.boolean(),
});
export type Channel = v.InferOutput<typeof Channel>;

/** One emoji: at most WIRE_LIMITS.emojiChars code units, with at least one pictographic character. */
export const Emoji = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(WIRE_LIMITS.emojiChars),
  WellFormed,
  // One grapheme: "👍🏽" and "👨‍👩‍👧" are one each, "😀😀" is two.
  v.check((text: string) => [...new Intl.Segmenter().segment(text)].length === 1, 'not a single emoji'),
  // Each code point on its own must be emoji material (joiners, modifiers and variation selectors
  // included), so the class is meant per code point, not per sequence.
  v.regex(
    // eslint-disable-next-line no-misleading-character-class
    /^(?=.*[\p{Extended_Pictographic}\p{Regional_Indicator}\u{20E3}])[\p{Extended_Pictographic}\p{Regional_Indicator}\p{Emoji_Component}\p{Emoji_Modifier}\u{FE0F}\u{200D}\u{20E3}#*0-9]+$/u,
  ),
);

/** One emoji on a message and who chose it, in the order they did (v1.5). */
export const Reaction = v.object({ emoji: Emoji, by: v.array(Id) });
export type Reaction = v.InferOutput<typeof Reaction>;

/**
 * What a reply carries of the message it answers (v1.5), as the host read it when it sent this
 * message or page: its author and the start of its text, or `deleted` when it was deleted since.
 */
export const ReplyQuote = v.object({
  seq: Seq,
  from: Id,
  text: v.pipe(v.string(), v.maxLength(WIRE_LIMITS.quoteChars)),
  /** The quoted message carried files (so an empty text can say "a file"). */
  files: v.optional(v.number()),
  deleted: v.optional(v.literal(true)),
});
export type ReplyQuote = v.InferOutput<typeof ReplyQuote>;

export const ChatMessage = v.object({
  seq: Seq,
  from: Id,
  /** Member id of the recipient for a direct message; null for the room and its channels. */
  to: v.nullable(Id),
  /** May be empty when the message carries files. */
  text: Text,
  ts: Timestamp,
  clientId: Id,
  /** Files the message carries (v1.4; absent when none). */
  files: v.optional(v.pipe(v.array(FileRef), v.maxLength(WIRE_LIMITS.filesPerMessage))),
  /** v1.5: the channel of a room message, absent for the default channel and for direct messages. */
  channel: v.optional(ChannelId),
  /** v1.5: the message this one answers. */
  replyTo: v.optional(ReplyQuote),
  /** v1.5: ids of the members the text mentions (each written as @Name in the text). */
  mentions: v.optional(v.pipe(v.array(Id), v.maxLength(WIRE_LIMITS.mentionsPerMessage))),
  /** v1.5: when its author last edited it (the text is the edited one). */
  editedAt: v.optional(Timestamp),
  /** v1.5: its author deleted it: text is "", and files, mentions and reactions are gone. */
  deleted: v.optional(v.literal(true)),
  /** v1.5: reactions, absent when none. */
  reactions: v.optional(v.array(Reaction)),
});
export type ChatMessage = v.InferOutput<typeof ChatMessage>;

/**
 * Something that happened to a message or a channel after it was made (v1.5). Each has its own
 * `seq` from the same sequence as messages, so a resume "after seq N" delivers the updates missed
 * as well, and each is idempotent: applying one twice leaves the same result.
 */
const UpdateBase = { seq: Seq, ts: Timestamp, by: Id };
export const Update = v.variant('kind', [
  v.object({
    kind: v.literal('edit'),
    ...UpdateBase,
    target: Seq,
    text: Text,
    mentions: v.optional(v.pipe(v.array(Id), v.maxLength(WIRE_LIMITS.mentionsPerMessage))),
  }),
  v.object({ kind: v.literal('delete'), ...UpdateBase, target: Seq }),
  /** `on`: the reaction was added (true) or taken back (false) by `by`. */
  v.object({ kind: v.literal('react'), ...UpdateBase, target: Seq, emoji: Emoji, on: v.boolean() }),
  /** A channel was created, renamed, given a topic, archived or brought back: its whole record now. */
  v.object({ kind: v.literal('channel'), ...UpdateBase, channel: Channel }),
]);
export type Update = v.InferOutput<typeof Update>;

/** A search hit (v1.5): the message, where the terms are in its text, and its neighbours in its conversation. */
export const SearchHit = v.object({
  message: ChatMessage,
  /** [start, end) ranges in UTF-16 code units of `message.text`, in order and not overlapping. */
  highlights: v.array(v.tuple([v.number(), v.number()])),
  /** Up to two messages just before and just after it in the same conversation, oldest first. */
  before: v.array(ChatMessage),
  after: v.array(ChatMessage),
});
export type SearchHit = v.InferOutput<typeof SearchHit>;

/**
 * What a client understands beyond v1.4, said in its hello: 'channels' (v1.5), 'members' (v1.6:
 * a large room's welcome lists only part of the room, and presence comes for the members it watches;
 * see MembersRequest and Roster).
 */
export const FEATURES = ['channels', 'members'] as const;

/**
 * Names of the people a page of messages mentions (authors and direct
 * recipients), by member id, as the host last knew them: so a message from
 * someone who has left still shows who wrote it. Only ids on the page; added
 * in protocol v1.1, absent from older hosts.
 */
export const Names = v.record(Id, v.pipe(v.string(), v.maxLength(WIRE_LIMITS.nameChars)));
export type Names = v.InferOutput<typeof Names>;

// ── client → host ───────────────────────────────────────────────────────────

export const Hello = v.object({
  type: v.literal('hello'),
  v: v.number(),
  name: Name,
  code: v.optional(v.pipe(v.string(), v.maxLength(WIRE_LIMITS.codeChars))),
  resume: v.optional(v.object({ token: Id, lastSeq: Seq })),
  /**
   * v1.5: what this client understands. Without 'channels' the host sends it only the default
   * channel's messages (and no channel's search hits), as a v1.4 host would have.
   */
  features: v.optional(v.pipe(v.array(v.pipe(v.string(), v.maxLength(32))), v.maxLength(16))),
});
const Mentions = v.pipe(v.array(Id), v.maxLength(WIRE_LIMITS.mentionsPerMessage));
export const Send = v.object({
  type: v.literal('send'),
  clientId: Id,
  to: v.optional(v.nullable(Id)),
  /** May be empty when `files` is not. */
  text: Text,
  /** Ids of files this member uploaded for this conversation and finished (v1.4). */
  files: v.optional(v.pipe(v.array(FileId), v.minLength(1), v.maxLength(WIRE_LIMITS.filesPerMessage))),
  /** v1.5: a channel of the room (not with `to`); absent for the default channel. */
  channel: v.optional(ChannelId),
  /** v1.5: the seq of a message in the same conversation that this one answers. */
  replyTo: v.optional(Seq),
  /** v1.5: member ids the text mentions; the host keeps only members of the room. */
  mentions: v.optional(Mentions),
});
/** v1.5: requests about existing messages and channels carry `ref`, echoed by `done` or `error`. */
export const Edit = v.object({
  type: v.literal('edit'),
  ref: Id,
  target: Seq,
  text: Text,
  mentions: v.optional(Mentions),
});
export const Delete = v.object({ type: v.literal('delete'), ref: Id, target: Seq });
export const React = v.object({ type: v.literal('react'), ref: Id, target: Seq, emoji: Emoji, on: v.boolean() });
const ChannelName = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(WIRE_LIMITS.channelNameChars), WellFormed);
const ChannelTopic = v.pipe(v.string(), v.trim(), v.maxLength(WIRE_LIMITS.channelTopicChars), WellFormed);
export const ChannelRequest = v.object({
  type: v.literal('channel'),
  ref: Id,
  /** 'create' takes name (and topic); 'update' takes id and name and/or topic; 'archive' takes id and archived. */
  op: v.picklist(['create', 'update', 'archive']),
  id: v.optional(ChannelId),
  name: v.optional(ChannelName),
  topic: v.optional(ChannelTopic),
  archived: v.optional(v.boolean()),
});
/**
 * v1.6: a page of the room's member list, sorted by name (case- and accent-insensitive, then id),
 * optionally only names containing `query`. Answered by `membersPage` with the same `ref`.
 */
export const MembersRequest = v.object({
  type: v.literal('members'),
  ref: Id,
  query: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(WIRE_LIMITS.nameChars), WellFormed)),
  offset: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000))),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(WIRE_LIMITS.membersPage))),
});
/**
 * v1.6: the members whose presence this client wants live in a large room (the rows it shows), in
 * place of those it asked for before; its own and its direct-conversation partners' come anyway.
 * Answered by `membersPage` (offset 0) with those of them in the room now.
 */
export const WatchRequest = v.object({
  type: v.literal('watch'),
  ref: Id,
  ids: v.pipe(v.array(Id), v.maxLength(WIRE_LIMITS.membersPage)),
});
export const SearchRequest = v.object({
  type: v.literal('search'),
  ref: Id,
  query: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(WIRE_LIMITS.searchQueryChars), WellFormed),
  /** Only this conversation: 'room', a channel id, or a member id (the direct conversation with them). */
  conversation: v.optional(Id),
  /** Only messages by this member. */
  from: v.optional(Id),
  /** Only messages with since <= ts < until (epoch ms). */
  since: v.optional(Timestamp),
  until: v.optional(Timestamp),
  /** Paging: only hits older than this seq (the last hit of the previous page). */
  before: v.optional(Seq),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(WIRE_LIMITS.searchPage))),
});
export const TypingOut = v.object({
  type: v.literal('typing'),
  to: v.optional(v.nullable(Id)),
  /** v1.5: typing in a channel (not with `to`). */
  channel: v.optional(ChannelId),
});
export const SetStatus = v.object({ type: v.literal('status'), status: v.picklist(['online', 'away']) });
export const HistoryRequest = v.object({
  type: v.literal('history'),
  /**
   * 'room' (the default channel), a channel id (v1.5), a member id (the direct conversation with
   * them), or absent for everything visible.
   */
  conversation: v.optional(Id),
  before: v.optional(Seq),
  after: v.optional(Seq),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(WIRE_LIMITS.historyPage))),
});
export const Ping = v.object({ type: v.literal('ping'), id: v.number(), t: v.number() });
export const Leave = v.object({ type: v.literal('leave') });

export const ClientFrame = v.variant('type', [
  Hello,
  Send,
  TypingOut,
  SetStatus,
  HistoryRequest,
  Ping,
  Leave,
  Edit,
  Delete,
  React,
  ChannelRequest,
  SearchRequest,
  MembersRequest,
  WatchRequest,
]);
export type ClientFrame = v.InferOutput<typeof ClientFrame>;
export type HelloFrame = v.InferOutput<typeof Hello>;
export type SendFrame = v.InferOutput<typeof Send>;
export type HistoryRequestFrame = v.InferOutput<typeof HistoryRequest>;
export type EditFrame = v.InferOutput<typeof Edit>;
export type DeleteFrame = v.InferOutput<typeof Delete>;
export type ReactFrame = v.InferOutput<typeof React>;
export type ChannelRequestFrame = v.InferOutput<typeof ChannelRequest>;
export type SearchRequestFrame = v.InferOutput<typeof SearchRequest>;
export type MembersRequestFrame = v.InferOutput<typeof MembersRequest>;
export type WatchRequestFrame = v.InferOutput<typeof WatchRequest>;

// ── host → client ───────────────────────────────────────────────────────────

export const Welcome = v.object({
  type: v.literal('welcome'),
  v: v.number(),
  room: v.object({ name: v.string() }),
  you: Member,
  token: Id,
  resumed: v.boolean(),
  members: v.array(Member),
  /** Latest page for a new joiner, or what was missed since `resume.lastSeq`. */
  history: v.array(ChatMessage),
  /** True when older (new join) or more missed (resume) messages exist than `history` holds. */
  hasMore: v.boolean(),
  /** Names of the authors and recipients in `history` (v1.1; optional). */
  names: v.optional(Names),
  lastSeq: Seq,
  limits: v.object({
    maxMessageBytes: v.number(),
    pingIntervalMs: v.number(),
    messagesPerSecond: v.number(),
    messageBurst: v.number(),
  }),
  /** How this member uploads and downloads files (v1.4; absent when the host shares no files). */
  files: v.optional(
    v.object({
      /** Sent as `Authorization: Bearer <token>` (or `?t=<token>` on a download) with every file request. */
      token: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
      /** Where the file endpoints live on the host's web origin: "/files". */
      path: v.string(),
      maxFileBytes: v.number(),
      maxUploadsInFlight: v.number(),
    }),
  ),
  /** v1.5: every channel of the room, the default one first, archived ones included. */
  channels: v.optional(v.array(Channel)),
  /**
   * v1.5, on a resume: the updates after `resume.lastSeq` to messages this member may see (and to
   * channels), oldest first, up to as many as fit; `hasMore` covers them too.
   */
  updates: v.optional(v.array(Update)),
  /** v1.5: what this host can do: 'channels', 'replies', 'edits', 'reactions', 'mentions', 'search'. */
  features: v.optional(v.array(v.string())),
  /** v1.5: who may create channels: 'everyone', or 'host' (members joined from the host's own machine). */
  channelCreators: v.optional(v.picklist(['everyone', 'host'])),
  /** v1.6, to a 'members' client: how many are in the room now (`online`: those not reconnecting). */
  memberCount: v.optional(v.object({ total: Count, online: Count })),
  /**
   * v1.6, to a 'members' client in a large room: `members` is only you, your direct-conversation
   * partners in the room and the first page by name; ask for the rest with `members`.
   */
  membersPartial: v.optional(v.boolean()),
});
export const MessageIn = v.object({ type: v.literal('message'), message: ChatMessage });
export const Ack = v.object({
  type: v.literal('ack'),
  clientId: Id,
  seq: Seq,
  ts: Timestamp,
  /** The host's record of the files the acknowledged message carries (v1.4; absent when none). */
  files: v.optional(v.pipe(v.array(FileRef), v.maxLength(WIRE_LIMITS.filesPerMessage))),
});
export const PresenceEvent = v.picklist(['joined', 'left', 'away', 'back', 'reconnecting']);
export type PresenceEvent = v.InferOutput<typeof PresenceEvent>;
export const Presence = v.object({ type: v.literal('presence'), event: PresenceEvent, member: Member });
export const TypingIn = v.object({
  type: v.literal('typing'),
  from: Id,
  to: v.nullable(Id),
  /** v1.5: typing in this channel. */
  channel: v.optional(ChannelId),
});
/** v1.5: one update, live (see Update). */
export const UpdateIn = v.object({ type: v.literal('update'), update: Update });
/** v1.5: the request with this `ref` (edit, delete, react, channel) was done; `seq` is its update's. */
export const Done = v.object({ type: v.literal('done'), ref: Id, seq: Seq, channel: v.optional(Channel) });
export const SearchResults = v.object({
  type: v.literal('searchResults'),
  ref: Id,
  hits: v.array(SearchHit),
  /** More, older hits exist: ask again with `before` the last hit's seq. */
  hasMore: v.boolean(),
  names: v.optional(Names),
});
/** v1.6: the answer to `members` or `watch`: `members` from position `offset` of `total` that match. */
export const MembersPage = v.object({
  type: v.literal('membersPage'),
  ref: Id,
  members: v.array(Member),
  offset: Count,
  total: Count,
});
/**
 * v1.6, to 'members' clients: the room's counts, at most once a second and only when they changed.
 * `complete`: the host sends this client every member's presence (the room is at or below its
 * full-presence size); when it turns true again after false, ask for the list anew (`members`).
 */
export const Roster = v.object({ type: v.literal('roster'), total: Count, online: Count, complete: v.boolean() });
export const HistoryPage = v.object({
  type: v.literal('history'),
  conversation: v.optional(Id),
  messages: v.array(ChatMessage),
  hasMore: v.boolean(),
  direction: v.picklist(['before', 'after']),
  /** Names of the authors and recipients in `messages` (v1.1; optional). */
  names: v.optional(Names),
  /** v1.5, direction 'after' (catching up): the updates in the same span of seqs, oldest first. */
  updates: v.optional(v.array(Update)),
});
export const Pong = v.object({ type: v.literal('pong'), id: v.number(), t: v.number() });
export const ErrorFrame = v.object({
  type: v.literal('error'),
  code: v.string(),
  message: v.string(),
  /** The clientId of the send (or, v1.5, the `ref` of the request) this error refers to, if any. */
  ref: v.optional(Id),
  retryAfterMs: v.optional(v.number()),
});
export const Goodbye = v.object({ type: v.literal('goodbye'), reason: v.string(), message: v.string() });

export const HostFrame = v.variant('type', [
  Welcome,
  MessageIn,
  Ack,
  Presence,
  TypingIn,
  HistoryPage,
  Pong,
  ErrorFrame,
  Goodbye,
  UpdateIn,
  Done,
  SearchResults,
  MembersPage,
  Roster,
]);
export type HostFrame = v.InferOutput<typeof HostFrame>;
export type WelcomeFrame = v.InferOutput<typeof Welcome>;
export type ErrorFrameT = v.InferOutput<typeof ErrorFrame>;

export type Decoded<T> =
  | { ok: true; frame: T }
  | {
      ok: false;
      reason: 'malformed' | 'unknown-type' | 'version';
      detail: string;
      /**
       * The clientId of a `send` (or the `ref` of a v1.5 request) that was refused, when it could be
       * read: the sender learns which message or request failed.
       */
      ref?: string;
    };

/**
 * True when `raw` nests arrays or objects deeper than `limit`. A linear scan
 * of the text, so nothing deep is ever built: JSON.parse itself copes with
 * depth, but anything that later walks the value recursively (JSON.stringify,
 * String(), a logger) would overflow the stack.
 */
export function nestsDeeperThan(raw: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

function parse(raw: string): { ok: true; value: unknown } | { ok: false; reason: 'malformed'; detail: string } {
  if (nestsDeeperThan(raw, WIRE_LIMITS.nestingDepth)) {
    return { ok: false, reason: 'malformed', detail: `nested deeper than ${WIRE_LIMITS.nestingDepth}` };
  }
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false, reason: 'malformed', detail: 'not JSON' };
  }
}

/** Names a value in an error detail without walking into it (it may be huge or hostile). */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : typeof value;
}

function validate<T extends v.GenericSchema>(
  schema: T,
  known: ReadonlySet<string>,
  parsed: unknown,
): Decoded<v.InferOutput<T>> {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: 'malformed', detail: 'not an object' };
  }
  const type = (parsed as { type?: unknown }).type;
  if (typeof type !== 'string' || !known.has(type)) {
    return { ok: false, reason: 'unknown-type', detail: `type ${describe(type)}` };
  }
  const result = v.safeParse(schema, parsed);
  if (!result.success) {
    const issue = result.issues[0];
    const path = issue.path?.map((item) => describe(item.key).replaceAll('"', '')).join('.') ?? '';
    const clientId = (parsed as { clientId?: unknown }).clientId;
    const requestRef = (parsed as { ref?: unknown }).ref;
    const ref =
      type === 'send' && v.is(Id, clientId)
        ? clientId
        : type !== 'send' && v.is(Id, requestRef)
          ? requestRef
          : undefined;
    return {
      ok: false,
      reason: 'malformed',
      detail: `${type}${path ? `.${path}` : ''}: ${issue.message}`,
      ...(ref === undefined ? {} : { ref }),
    };
  }
  return { ok: true, frame: result.output };
}

/** The frame types a variant schema knows, read off the schema itself so no list is written twice. */
const typesOf = (schema: { options: readonly { entries: { type: { literal: string } } }[] }): ReadonlySet<string> =>
  new Set(schema.options.map((option) => option.entries.type.literal));
const CLIENT_TYPES = typesOf(ClientFrame);
const HOST_TYPES = typesOf(HostFrame);

export function decodeClientFrame(raw: string): Decoded<ClientFrame> {
  const parsed = parse(raw);
  if (!parsed.ok) return parsed;
  // A hello from another version may have another shape: say "version", not "malformed".
  const value = parsed.value as { type?: unknown; v?: unknown } | null;
  if (value?.type === 'hello' && value.v !== PROTOCOL_VERSION) {
    return { ok: false, reason: 'version', detail: `host speaks v${PROTOCOL_VERSION}, client v${describe(value.v)}` };
  }
  return validate(ClientFrame, CLIENT_TYPES, parsed.value);
}

export const encode = (frame: ClientFrame | HostFrame): string => JSON.stringify(frame);

/**
 * A host may batch several frames into one WebSocket text frame as a JSON
 * array (it does so when several are ready in the same tick). Each element is
 * decoded on its own so one bad element does not hide the others.
 */
export function decodeHostFrames(raw: string): Decoded<HostFrame>[] {
  const parsed = parse(raw);
  if (!parsed.ok) return [parsed];
  const frames = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
  return frames.map((frame) => validate(HostFrame, HOST_TYPES, frame));
}

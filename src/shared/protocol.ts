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

export const ChatMessage = v.object({
  seq: Seq,
  from: Id,
  /** Member id of the recipient for a direct message; null for the room. */
  to: v.nullable(Id),
  /** May be empty when the message carries files. */
  text: Text,
  ts: Timestamp,
  clientId: Id,
  /** Files the message carries (v1.4; absent when none). */
  files: v.optional(v.pipe(v.array(FileRef), v.maxLength(WIRE_LIMITS.filesPerMessage))),
});
export type ChatMessage = v.InferOutput<typeof ChatMessage>;

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
});
export const Send = v.object({
  type: v.literal('send'),
  clientId: Id,
  to: v.optional(v.nullable(Id)),
  /** May be empty when `files` is not. */
  text: Text,
  /** Ids of files this member uploaded for this conversation and finished (v1.4). */
  files: v.optional(v.pipe(v.array(FileId), v.minLength(1), v.maxLength(WIRE_LIMITS.filesPerMessage))),
});
export const TypingOut = v.object({ type: v.literal('typing'), to: v.optional(v.nullable(Id)) });
export const SetStatus = v.object({ type: v.literal('status'), status: v.picklist(['online', 'away']) });
export const HistoryRequest = v.object({
  type: v.literal('history'),
  /** 'room', a member id (the direct conversation with them), or absent for everything visible. */
  conversation: v.optional(Id),
  before: v.optional(Seq),
  after: v.optional(Seq),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(WIRE_LIMITS.historyPage))),
});
export const Ping = v.object({ type: v.literal('ping'), id: v.number(), t: v.number() });
export const Leave = v.object({ type: v.literal('leave') });

export const ClientFrame = v.variant('type', [Hello, Send, TypingOut, SetStatus, HistoryRequest, Ping, Leave]);
export type ClientFrame = v.InferOutput<typeof ClientFrame>;
export type HelloFrame = v.InferOutput<typeof Hello>;
export type SendFrame = v.InferOutput<typeof Send>;
export type HistoryRequestFrame = v.InferOutput<typeof HistoryRequest>;

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
export const TypingIn = v.object({ type: v.literal('typing'), from: Id, to: v.nullable(Id) });
export const HistoryPage = v.object({
  type: v.literal('history'),
  conversation: v.optional(Id),
  messages: v.array(ChatMessage),
  hasMore: v.boolean(),
  direction: v.picklist(['before', 'after']),
  /** Names of the authors and recipients in `messages` (v1.1; optional). */
  names: v.optional(Names),
});
export const Pong = v.object({ type: v.literal('pong'), id: v.number(), t: v.number() });
export const ErrorFrame = v.object({
  type: v.literal('error'),
  code: v.string(),
  message: v.string(),
  /** The clientId of the send this error refers to, if any. */
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
      /** The clientId of a `send` that was refused, when it could be read: the sender learns which message failed. */
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
    const ref = type === 'send' && v.is(Id, clientId) ? clientId : undefined;
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

import { DEFAULT_FILE_LIMITS } from '../shared/files.ts';
import { DEFAULT_HISTORY_PAGE, DEFAULT_ROOM_LIMITS } from '../shared/protocol.ts';

/** Every limit and interval of a room, with its default and why. docs/PROTOCOL.md lists the same. */
export interface RoomLimits {
  /** Largest frame accepted; larger ones close the connection with 1009. 64 KiB holds a long pasted log. */
  maxMessageBytes: number;
  /** The host pings every member this often; a member silent for a whole interval is terminated. */
  pingIntervalMs: number;
  /** A silent (terminated) member is shown as left this long after it was last heard from. */
  silentLeaveMs: number;
  /** A member whose connection closed is "reconnecting" this long before "left". */
  reconnectGraceMs: number;
  /** A WebSocket connection must say hello within this time. */
  helloTimeoutMs: number;
  /**
   * A TCP connection must send an HTTP request or upgrade within this time (its TLS handshake and its
   * headers within it too).
   */
  handshakeTimeoutMs: number;
  /** TCP connections the host holds at most; when full, the oldest one that has not joined makes room. */
  maxConnections: number;
  /** TCP connections from one address (an IPv6 /64), joined or not: a person's app and a few browser tabs. */
  maxConnectionsPerAddress: number;
  /** Sustained messages per second per member (token bucket refill); the bucket follows the member across reconnects. */
  messagesPerSecond: number;
  /** Burst allowance of the token bucket. */
  messageBurst: number;
  /** Messages refused for rate within `floodWindowMs` before the connection is closed (1008). */
  floodCloseAfter: number;
  floodWindowMs: number;
  /** Malformed or unknown frames tolerated before the connection is closed (1008). */
  malformedCloseAfter: number;
  /** A member whose unsent data exceeds this is dropped instead of growing the host's memory. */
  maxBufferedBytes: number;
  /** History requests per second per member, sustained and at once: a catch-up asks for pages one after another. */
  historyPerSecond: number;
  historyBurst: number;
  /** Bytes of message text in one welcome or history page at most, whatever the count: a page of 64 KB messages stops early. */
  maxPageBytes: number;
  /** Messages in the welcome's latest page and in a history page by default. */
  historyPageSize: number;
  /** Missed messages sent in the welcome of a resume; more are fetched with history requests. */
  resumePageSize: number;
  /** Each wrong join code from an address delays the answer by this much more. */
  wrongCodeDelayMs: number;
  /**
   * WebSocket connections from one address that have not said hello yet. A
   * person's reconnecting app needs one; a script opening sockets without
   * joining is stopped here (HTTP 429). This machine's own 127.0.0.1 and ::1 are not counted.
   */
  maxUnjoinedPerAddress: number;
  /** Wrong codes from one address before it is locked out. */
  lockoutAfter: number;
  /** The first lockout of an address; each further one doubles, up to `maxLockoutMs`. */
  lockoutMs: number;
  maxLockoutMs: number;
  /** Wrong codes the whole room answers per minute, from all addresses together (and at once). */
  roomWrongCodesPerMinute: number;
  roomWrongCodeBurst: number;
  /** Joins per second from one address, sustained and at once. */
  hellosPerSecond: number;
  helloBurst: number;
  /**
   * New identities (a hello without a known resume token) one address (an IPv6 /64) may create, per
   * hour sustained and at once. Every per-member limit (uploads, quota share, message rate) multiplies
   * with the identities one machine can mint; resumes are not counted. The burst lets an office of
   * 50 behind one NAT'd Wi-Fi address all join the first morning; the host's own 127.0.0.1 and ::1
   * are not counted.
   */
  newMembersPerHour: number;
  newMemberBurst: number;
  /** After a disconnection for flooding or abuse, the address may not join for this long; doubled each time. */
  abusePenaltyMs: number;
  maxAbusePenaltyMs: number;
  /** A departed member's name stays reserved for their identity this long. */
  nameReserveMs: number;
  /** Identities that never wrote or received a message are forgotten after this long unseen. */
  identityIdleMs: number;
  /** Largest single file a member may upload (413 past it; the welcome announces it). */
  maxFileBytes: number;
  /**
   * All stored files of the room together, identical contents counted once, plus the declared
   * lengths of unfinished uploads (507 ROOM_FILES_FULL past it): what the host's disk gives the room.
   */
  roomFilesQuotaBytes: number;
  /** Unfinished uploads one member may hold at once (429): each one reserves its length and a file. */
  maxUploadsInFlight: number;
  /**
   * Bytes that unfinished uploads from one address (an IPv6 /64) may have declared and not yet sent
   * (429 TOO_MANY_UPLOADS past it): identities cost nothing, so without this one machine could
   * reserve the whole quota with creations that never send a byte. null (the default): one member's
   * most, maxUploadsInFlight × maxFileBytes, so one person never meets it.
   */
  maxReservedBytesPerAddress: number | null;
  /**
   * An unfinished upload that receives no byte for this long is deleted and stops counting against
   * the quota and the reservations (well before `abandonedUploadMs`): a reservation must be used.
   */
  stalledUploadMs: number;
  /** Downloads one member may run at once (429): each holds an open file and a socket. */
  maxDownloadsInFlight: number;
  /** Free disk the host keeps whatever the quota says (507 HOST_DISK_FULL): the history must still be writable. */
  diskReserveBytes: number;
  /** An unfinished upload is deleted this long after it was created (tus expiration, Upload-Expires). */
  abandonedUploadMs: number;
  /** A file request whose socket moves no byte for this long is cut: it holds a slot and an open file. */
  fileIdleMs: number;
  /**
   * Channels besides the default one that the room holds at most, archived ones included (v1.5;
   * BEACON_ERR_TOO_MANY_CHANNELS past it). Every member is sent every channel in each welcome, so
   * the list stays short enough to read: 100 by default.
   */
  maxChannels: number;
  /**
   * Channels one member may create, archived ones included (v1.5): a channel is never deleted, so
   * without it one member could use up maxChannels for good. The host (its own machine) is exempt.
   */
  maxChannelsPerMember: number;
  /** Searches per second per member, sustained and at once (v1.5): each one reads the index. */
  searchesPerSecond: number;
  searchBurst: number;
  /**
   * Rooms of at most this many members behave as before v1.6 for everyone: each welcome lists every
   * member and every member hears everyone's presence. Above it, a 'members' client's welcome lists
   * only part of the room and it hears presence only of itself, its direct-conversation partners and
   * the members it watches, plus `roster` counts (docs/PERFORMANCE.md: presence for everyone makes a
   * join storm cost N² bytes). Clients without 'members' always get everything.
   */
  fullPresenceMembers: number;
  /** The first page of the member list, by name, in a partial welcome (v1.6). */
  welcomeMembers: number;
  /** `roster` counts go out at most this often (v1.6). */
  rosterIntervalMs: number;
  /** `members` and `watch` requests per second per member, sustained and at once (v1.6). */
  memberRequestsPerSecond: number;
  memberRequestBurst: number;
}

export const DEFAULT_LIMITS: RoomLimits = {
  maxMessageBytes: DEFAULT_ROOM_LIMITS.maxMessageBytes,
  pingIntervalMs: DEFAULT_ROOM_LIMITS.pingIntervalMs,
  // 15 s after going silent, less the 50 ms presence news may wait and timer slack.
  silentLeaveMs: 14_500,
  reconnectGraceMs: 10_000,
  helloTimeoutMs: 5_000,
  handshakeTimeoutMs: 5_000,
  // Far below the fd limit Node raises itself to; room for 10,000 members (docs/PERFORMANCE.md).
  maxConnections: 12_000,
  // A desktop app (1), a browser (up to 6 page connections plus one socket per tab), with room to spare.
  maxConnectionsPerAddress: 24,
  messagesPerSecond: DEFAULT_ROOM_LIMITS.messagesPerSecond,
  messageBurst: DEFAULT_ROOM_LIMITS.messageBurst,
  floodCloseAfter: 200,
  floodWindowMs: 10_000,
  malformedCloseAfter: 10,
  maxBufferedBytes: 4 * 1024 * 1024,
  historyPerSecond: 10,
  historyBurst: 20,
  maxPageBytes: 512 * 1024,
  historyPageSize: DEFAULT_HISTORY_PAGE,
  resumePageSize: 1_000,
  wrongCodeDelayMs: 500,
  maxUnjoinedPerAddress: 16,
  lockoutAfter: 5,
  lockoutMs: 60_000,
  maxLockoutMs: 60 * 60_000,
  // With eight-digit codes: 10^8 / 2 / 30 per minute ≈ 3.2 years to guess one on average.
  roomWrongCodesPerMinute: 30,
  roomWrongCodeBurst: 30,
  hellosPerSecond: 1,
  helloBurst: 10,
  // A whole office's first morning at once from one address, then one a minute: an identity is kept
  // for good once it has written or received a message, so real people rarely need a new one.
  newMembersPerHour: 60,
  newMemberBurst: 60,
  abusePenaltyMs: 30_000,
  maxAbusePenaltyMs: 30 * 60_000,
  nameReserveMs: 24 * 60 * 60_000,
  identityIdleMs: 24 * 60 * 60_000,
  maxFileBytes: DEFAULT_FILE_LIMITS.maxFileBytes,
  roomFilesQuotaBytes: DEFAULT_FILE_LIMITS.roomQuotaBytes,
  maxUploadsInFlight: DEFAULT_FILE_LIMITS.maxUploadsInFlight,
  maxReservedBytesPerAddress: null,
  stalledUploadMs: DEFAULT_FILE_LIMITS.stalledUploadMs,
  maxDownloadsInFlight: DEFAULT_FILE_LIMITS.maxDownloadsInFlight,
  diskReserveBytes: DEFAULT_FILE_LIMITS.diskReserveBytes,
  abandonedUploadMs: DEFAULT_FILE_LIMITS.abandonedUploadMs,
  // Long enough for a phone on weak Wi-Fi to stall and recover; short enough that a stalled reader lets go.
  fileIdleMs: 60_000,
  maxChannels: 100,
  maxChannelsPerMember: 10,
  // A person types a query and refines it a few times; a script asking for more slows the host for all.
  searchesPerSecond: 2,
  searchBurst: 5,
  fullPresenceMembers: 200,
  welcomeMembers: 50,
  rosterIntervalMs: 1_000,
  // Scrolling a list of 10,000 asks for a page or two per screenful, and a filter per keystroke.
  memberRequestsPerSecond: 10,
  memberRequestBurst: 30,
};

export interface RoomServerOptions {
  port: number;
  /** Address to listen on; undefined means every interface (IPv4 and IPv6). */
  bind?: string;
  /** Room name; by default the name the room's history was last hosted under, else DEFAULT_ROOM_NAME. */
  roomName?: string;
  /** Join code, or null for an open room. */
  code: string | null;
  /** Folder for the history database and the room's files, or ':memory:' (then the room takes no files). */
  dataDir: string;
  /** Folder of the built web client to serve at '/', if any. */
  webRoot?: string;
  /**
   * Plain ws:// and http:// (the --insecure opt-out): no TLS, so the join code, tokens and every message
   * cross the network in clear. By default (false) the host speaks wss:// and https:// with the key and
   * self-signed certificate kept in `dataDir` (made on the first start; a new one each time for ':memory:').
   */
  insecure?: boolean;
  /**
   * Where the key and certificate live, when not in `dataDir`. The desktop app keeps one for the
   * whole install: members pin a machine's fingerprint (host:port), so each room hosted from one
   * computer must show the same one, or hosting another room would look like an impostor.
   */
  identityDir?: string;
  limits?: Partial<RoomLimits>;
  /**
   * Who may create channels (v1.5): 'everyone' (the default), or 'host': only a member connected
   * from the host's own machine (127.0.0.1 or ::1), who may also rename and archive every channel
   * whoever made it (the `--channels-by host` flag).
   */
  channelCreators?: 'everyone' | 'host';
  /**
   * Keep the text a message had before each edit, in the host's database only (v1.5; never sent to
   * anyone). Off by default: what someone corrected is gone, as they expect (`--keep-edit-history`).
   */
  keepEditHistory?: boolean;
}

export const DEFAULT_ROOM_NAME = 'Beacon room';

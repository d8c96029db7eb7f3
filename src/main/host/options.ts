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
  /** A connection must say hello within this time. */
  helloTimeoutMs: number;
  /** Sustained messages per second per connection (token bucket refill). */
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
  /** Messages in the welcome's latest page and in a history page by default. */
  historyPageSize: number;
  /** Missed messages sent in the welcome of a resume; more are fetched with history requests. */
  resumePageSize: number;
  /** Each wrong join code from an address delays the answer by this much more. */
  wrongCodeDelayMs: number;
  /**
   * Connections from one address that have not said hello yet. A person's
   * reconnecting app needs one; a script opening sockets without joining is
   * stopped here (HTTP 429). This machine's own loopback connections are not counted.
   */
  maxUnjoinedPerAddress: number;
  /** Wrong codes from one address before it is locked out. */
  lockoutAfter: number;
  lockoutMs: number;
}

export const DEFAULT_LIMITS: RoomLimits = {
  maxMessageBytes: 64 * 1024,
  pingIntervalMs: 5_000,
  // 15 s after going silent, less the 50 ms presence news may wait and timer slack.
  silentLeaveMs: 14_500,
  reconnectGraceMs: 10_000,
  helloTimeoutMs: 10_000,
  messagesPerSecond: 20,
  messageBurst: 40,
  floodCloseAfter: 200,
  floodWindowMs: 10_000,
  malformedCloseAfter: 10,
  maxBufferedBytes: 4 * 1024 * 1024,
  historyPageSize: 100,
  resumePageSize: 1_000,
  wrongCodeDelayMs: 500,
  maxUnjoinedPerAddress: 16,
  lockoutAfter: 5,
  lockoutMs: 60_000,
};

export interface RoomServerOptions {
  port: number;
  /** Address to listen on; undefined means every interface (IPv4 and IPv6). */
  bind?: string;
  /** Room name; by default the name the room's history was last hosted under, else DEFAULT_ROOM_NAME. */
  roomName?: string;
  /** Join code, or null for an open room. */
  code: string | null;
  /** Folder for the history database, or ':memory:'. */
  dataDir: string;
  /** Folder of the built web client to serve at '/', if any. */
  webRoot?: string;
  limits?: Partial<RoomLimits>;
}

export const DEFAULT_ROOM_NAME = 'Beacon room';

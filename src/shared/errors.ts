import { CLOSE } from './protocol.ts';

interface ErrorSpec {
  message: string;
  close?: number;
  final?: boolean;
}

/**
 * Every failure Beacon reports has a stable code for programs and a sentence
 * for people; the wire carries the code and each side shows the sentence, so
 * a person never sees a bare code. One row per failure: the sentence a person reads, the WebSocket close code
 * that carries it when it ends a connection, and whether it is final (trying
 * again by itself cannot help until the person changes something: a code, a
 * name, a version). The host closes with `close` and the code as the reason;
 * the client reads both back through the same rows.
 */
export const ERRORS = {
  BEACON_ERR_WRONG_CODE: {
    message: 'The join code is wrong. Ask the host for the current code.',
    close: CLOSE.WRONG_CODE,
    final: true,
  },
  BEACON_ERR_LOCKED_OUT: {
    message: 'Too many wrong join codes from this computer. Wait a minute and try again.',
    close: CLOSE.LOCKED_OUT,
    final: true,
  },
  BEACON_ERR_ROOM_BUSY: {
    message:
      'Too many wrong join codes were tried in this room just now, so no code is checked for a moment. Wait a minute and try again.',
    close: CLOSE.LOCKED_OUT,
    final: true,
  },
  BEACON_ERR_TOO_MANY_JOINS: {
    message: 'This computer is joining too often. Beacon will try again in a moment.',
    close: CLOSE.TRY_AGAIN_LATER,
  },
  BEACON_ERR_TOO_MANY_NEW_MEMBERS: {
    message:
      'Too many new people have joined from this network address lately. Wait a while and try again, or rejoin as someone this room already knows.',
    close: CLOSE.TRY_AGAIN_LATER,
  },
  BEACON_ERR_PENALIZED: {
    message: 'This computer was disconnected for flooding the room and may not rejoin yet. Wait and try again.',
    close: CLOSE.POLICY,
    final: true,
  },
  BEACON_ERR_BAD_NAME: { message: 'That name cannot be used.', close: CLOSE.BAD_NAME, final: true },
  BEACON_ERR_BAD_TEXT: { message: 'The message contains broken characters and was not sent.' },
  BEACON_ERR_VERSION: {
    message: 'This room runs a different version of Beacon. Update Beacon on both sides.',
    close: CLOSE.VERSION,
    final: true,
  },
  BEACON_ERR_NOT_JOINED: {
    message: 'Say hello first: nothing of the room is shared before joining.',
    close: CLOSE.POLICY,
  },
  BEACON_ERR_HELLO_TIMEOUT: {
    message: 'The connection said nothing in time and was closed.',
    close: CLOSE.HELLO_TIMEOUT,
  },
  BEACON_ERR_MALFORMED: { message: 'A message could not be understood and was ignored.' },
  BEACON_ERR_UNKNOWN_TYPE: { message: 'A message of an unknown kind was ignored.' },
  BEACON_ERR_TOO_LARGE: { message: 'The message is too large to send.', close: CLOSE.TOO_LARGE },
  BEACON_ERR_RATE_LIMITED: { message: 'You are sending too fast; messages will go out in a moment.' },
  BEACON_ERR_FLOODING: {
    message: 'You were disconnected for sending too many messages too quickly.',
    close: CLOSE.POLICY,
    final: true,
  },
  BEACON_ERR_ABUSE: {
    message: 'You were disconnected after too many malformed messages.',
    close: CLOSE.POLICY,
    final: true,
  },
  BEACON_ERR_NO_SUCH_MEMBER: { message: 'That person is not in this room.' },
  BEACON_ERR_EMPTY: { message: 'An empty message was not sent.' },
  BEACON_ERR_SLOW_READER: {
    message: 'The connection was too slow to keep up with the room.',
    close: CLOSE.SLOW_READER,
  },
  BEACON_ERR_HOST_STOPPED: { message: 'The host stopped the room.', close: CLOSE.GOING_AWAY },
  BEACON_ERR_REFUSED: { message: 'Nothing is listening at that address. Is the room running?' },
  BEACON_ERR_UNREACHABLE: { message: 'That address cannot be reached from this computer.' },
  BEACON_ERR_TIMEOUT: { message: 'The host did not answer in time.' },
  BEACON_ERR_NETWORK: { message: 'The network connection was lost.' },
  BEACON_ERR_BAD_ADDRESS: { message: 'That is not a valid room address. Use a form like 192.168.1.20:4747.' },
  BEACON_ERR_PORT_IN_USE: { message: 'That port is already in use by another program.' },
  BEACON_ERR_BIND: { message: 'The room could not listen on that address.' },
  BEACON_ERR_HOST_CHANGED: {
    message:
      'This is not the host you were invited to: its fingerprint is not the one Beacon expected. Someone on the network may be intercepting the connection, or the host made a new key. Nothing was sent. Check the fingerprint with the host before trusting it.',
    final: true,
  },
  BEACON_ERR_NOT_ENCRYPTED: {
    message:
      'The computer at that address answered without encryption. Either its host runs without it (--insecure), or someone on the network is getting in the way. Beacon sent nothing. Ask the host before joining without encryption (ws:// in front of the address): then anyone on the network can read the room and the join code.',
    final: true,
  },
  BEACON_ERR_TLS: { message: 'The encrypted connection to the host could not be set up.' },
  BEACON_ERR_ENCRYPTION_REQUIRED: {
    message:
      'This host only accepts encrypted connections. Join with its address without ws:// in front (or with wss://).',
    final: true,
  },
  BEACON_ERR_HOST_KEY: {
    message: "The room's key or certificate could not be read, so the room cannot prove it is the same host as before.",
  },
  BEACON_ERR_ORIGIN: { message: 'Browsers may only join from the page the host serves.' },
  BEACON_ERR_STORE: { message: 'The room history could not be opened.' },
  BEACON_ERR_NO_FTS5: { message: 'This SQLite build has no FTS5; search will be unavailable.' },
  BEACON_ERR_INTERNAL: { message: 'Something went wrong inside Beacon.', close: CLOSE.INTERNAL },
  BEACON_ERR_INVALID_INPUT: { message: 'That request was not valid.' },
  BEACON_ERR_CANCELLED: { message: 'Joining was cancelled.' },
  // Files (v1.4). Over HTTP these come as {"code", "message"} with the status files.ts names.
  BEACON_ERR_FILE_AUTH: {
    message: 'The host did not recognise you for this file. Rejoin the room and try again.',
  },
  BEACON_ERR_FILE_NOT_FOUND: { message: 'That file is not in this room, or it is not shared with you.' },
  BEACON_ERR_FILE_TOO_LARGE: { message: 'The file is larger than this room accepts.' },
  BEACON_ERR_ROOM_FILES_FULL: {
    message: "The room's space for files is used up, so the file was not stored. Ask the host to make room.",
  },
  BEACON_ERR_HOST_DISK_FULL: {
    message: "The host computer's disk is full, so the file was not stored. Nothing half-stored was kept.",
  },
  BEACON_ERR_TOO_MANY_UPLOADS: {
    message: 'You are sending too many files at once. The rest will go when some have finished.',
  },
  BEACON_ERR_FILE_CORRUPT: {
    message: 'The file arrived different from what was sent, so the host did not keep it. Try sending it again.',
  },
  BEACON_ERR_FILE_NOT_READY: { message: 'A file in this message has not finished uploading.' },
  BEACON_ERR_FILE_ELSEWHERE: {
    message: 'A file in this message was uploaded for another conversation, so it was not shared here.',
  },
  BEACON_ERR_FILE_REQUEST: { message: 'The host could not understand that file request.' },
  BEACON_ERR_FILE_READ: { message: 'That file could not be read on this computer. Was it moved or deleted?' },
  BEACON_ERR_NO_FILES: { message: 'This room does not take files (its host runs an older Beacon).' },
  // Conversations (v1.5): channels, replies, edits, deletions, reactions, search.
  BEACON_ERR_NO_SUCH_MESSAGE: { message: 'That message is not in this conversation (or was deleted).' },
  BEACON_ERR_NOT_YOURS: { message: 'Only the person who wrote a message can edit or delete it.' },
  BEACON_ERR_NOT_ALLOWED: {
    message: 'Only the host, or the person who made this channel, can do that (or the host allows no new channels).',
  },
  BEACON_ERR_NO_SUCH_CHANNEL: { message: 'That channel is not in this room.' },
  BEACON_ERR_CHANNEL_NAME_TAKEN: { message: 'A channel with that name (or one that looks the same) already exists.' },
  BEACON_ERR_TOO_MANY_CHANNELS: { message: 'This room has as many channels as its host allows.' },
  BEACON_ERR_CHANNEL_ARCHIVED: { message: 'This channel is archived: it can be read and searched, not written in.' },
  BEACON_ERR_TOO_MANY_REACTIONS: { message: 'This message has as many different reactions as a message can hold.' },
  BEACON_ERR_SEARCH_UNAVAILABLE: {
    message: "This room's host cannot search (its SQLite has no FTS5, or it runs an older Beacon).",
  },
  BEACON_ERR_OFFLINE: { message: 'Not connected to the room right now. Try again once Beacon has reconnected.' },
  BEACON_ERR_OLD_HOST: { message: "This room's host runs an older Beacon that cannot do this." },
  BEACON_ERR_REPLACED: {
    message: 'You opened this room again somewhere else (another window or tab), so this one was disconnected.',
    close: CLOSE.REPLACED,
    final: true,
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

/** The sentence a person reads for `code`. */
export function errorMessage(code: ErrorCode): string {
  return ERRORS[code].message;
}

/** The close code a connection ended by `code` closes with (1008, a policy violation, when the row names none). */
export function closeCodeOf(code: ErrorCode): number {
  const spec: ErrorSpec = ERRORS[code];
  return spec.close ?? CLOSE.POLICY;
}

/** True when retrying by itself cannot help. */
export function isFinal(code: ErrorCode): boolean {
  const spec: ErrorSpec = ERRORS[code];
  return spec.final === true;
}

/**
 * What a close code alone means, for a close without a Beacon reason (a
 * browser drops it sometimes): the first row closing with it. 1008 is shared
 * by many rows and means nothing on its own.
 */
const BY_CLOSE_CODE: ReadonlyMap<number, ErrorCode> = new Map(
  (Object.entries(ERRORS) as [ErrorCode, ErrorSpec][])
    .filter(([, spec]) => spec.close !== undefined && spec.close !== CLOSE.POLICY)
    .reverse()
    .map(([code, spec]) => [spec.close!, code]),
);

export function errorForClose(closeCode: number): ErrorCode | undefined {
  return BY_CLOSE_CODE.get(closeCode);
}

/** An error with a stable code; `message` is always the human sentence. */
export class BeaconError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, detail?: string) {
    super(detail ? `${errorMessage(code)} (${detail})` : errorMessage(code));
    this.name = 'BeaconError';
    this.code = code;
  }
}

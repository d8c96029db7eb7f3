/**
 * Every failure Beacon reports has a stable code for programs and a sentence
 * for people. The wire carries the code; each side maps it to the sentence so
 * a person never sees a bare code.
 */
export const ERROR_MESSAGES = {
  BEACON_ERR_WRONG_CODE: 'The join code is wrong. Ask the host for the current code.',
  BEACON_ERR_LOCKED_OUT: 'Too many wrong join codes from this computer. Wait a minute and try again.',
  BEACON_ERR_ROOM_BUSY:
    'Too many wrong join codes were tried in this room just now, so no code is checked for a moment. Wait a minute and try again.',
  BEACON_ERR_TOO_MANY_JOINS: 'This computer is joining too often. Beacon will try again in a moment.',
  BEACON_ERR_PENALIZED:
    'This computer was disconnected for flooding the room and may not rejoin yet. Wait and try again.',
  BEACON_ERR_BAD_NAME: 'That name cannot be used.',
  BEACON_ERR_BAD_TEXT: 'The message contains broken characters and was not sent.',
  BEACON_ERR_VERSION: 'This room runs a different version of Beacon. Update Beacon on both sides.',
  BEACON_ERR_NOT_JOINED: 'Say hello first: nothing of the room is shared before joining.',
  BEACON_ERR_MALFORMED: 'A message could not be understood and was ignored.',
  BEACON_ERR_UNKNOWN_TYPE: 'A message of an unknown kind was ignored.',
  BEACON_ERR_TOO_LARGE: 'The message is too large to send.',
  BEACON_ERR_RATE_LIMITED: 'You are sending too fast; messages will go out in a moment.',
  BEACON_ERR_FLOODING: 'You were disconnected for sending too many messages too quickly.',
  BEACON_ERR_ABUSE: 'You were disconnected after too many malformed messages.',
  BEACON_ERR_NO_SUCH_MEMBER: 'That person is not in this room.',
  BEACON_ERR_EMPTY: 'An empty message was not sent.',
  BEACON_ERR_SLOW_READER: 'The connection was too slow to keep up with the room.',
  BEACON_ERR_HOST_STOPPED: 'The host stopped the room.',
  BEACON_ERR_REFUSED: 'Nothing is listening at that address. Is the room running?',
  BEACON_ERR_UNREACHABLE: 'That address cannot be reached from this computer.',
  BEACON_ERR_TIMEOUT: 'The host did not answer in time.',
  BEACON_ERR_NETWORK: 'The network connection was lost.',
  BEACON_ERR_BAD_ADDRESS: 'That is not a valid room address. Use a form like 192.168.1.20:4747.',
  BEACON_ERR_PORT_IN_USE: 'That port is already in use by another program.',
  BEACON_ERR_BIND: 'The room could not listen on that address.',
  BEACON_ERR_ORIGIN: 'Browsers may only join from the page the host serves.',
  BEACON_ERR_STORE: 'The room history could not be opened.',
  BEACON_ERR_NO_FTS5: 'This SQLite build has no FTS5; search will be unavailable.',
  BEACON_ERR_INTERNAL: 'Something went wrong inside Beacon.',
  BEACON_ERR_INVALID_INPUT: 'That request was not valid.',
  BEACON_ERR_CANCELLED: 'Joining was cancelled.',
  BEACON_ERR_REPLACED:
    'You opened this room again somewhere else (another window or tab), so this one was disconnected.',
} as const;

export type ErrorCode = keyof typeof ERROR_MESSAGES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_MESSAGES, value);
}

/** An error with a stable code; `message` is always the human sentence. */
export class BeaconError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, detail?: string) {
    super(detail ? `${ERROR_MESSAGES[code]} (${detail})` : ERROR_MESSAGES[code]);
    this.name = 'BeaconError';
    this.code = code;
  }
}

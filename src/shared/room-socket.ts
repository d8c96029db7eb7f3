/**
 * The socket under a RoomClient, and what its failures mean to a person: the
 * reason a connection ended, from the close code and reason, what the
 * platform said (Node's `ws` tells ECONNREFUSED and friends, a browser
 * nothing) and whether it ever connected.
 */
import type { ConnectionSecurity } from './chat-api.ts';
import { errorForClose, type ErrorCode, isErrorCode, isFinal } from './errors.ts';
import type { Fingerprint } from './fingerprint.ts';

/** The part of a WebSocket the client needs; the browser's WebSocket fits, Node wraps `ws`. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: (() => void) | null;
  onmessage: ((data: string) => void) | null;
  /** `code` is the close code; `reason` the close reason. */
  onclose: ((code: number, reason: string) => void) | null;
  /**
   * `errorCode` is a system error code such as ECONNREFUSED when the platform tells it, or a Beacon
   * code the factory found (BEACON_ERR_HOST_CHANGED, BEACON_ERR_NOT_ENCRYPTED, BEACON_ERR_TLS…);
   * `fingerprints` come with BEACON_ERR_HOST_CHANGED.
   */
  onerror: ((errorCode: string | undefined, fingerprints?: HostFingerprints) => void) | null;
  /**
   * How this connection is protected, set by the time `onopen` runs. A factory that cannot tell
   * leaves it unset, and the connection is reported without it. The Node factory says
   * { encrypted: false } for ws:// and the fingerprint it checked for wss://; a page's factory
   * says 'browser' (its browser checked the certificate) or { encrypted: false } on http.
   */
  security?: ConnectionSecurity;
}

/** What a host changed to: the fingerprint expected and the one the answering machine showed. */
export interface HostFingerprints {
  expected: Fingerprint;
  presented: Fingerprint;
}

/** What RoomClient tells its socket factory about the host it expects. */
export interface SocketOptions {
  /**
   * The fingerprint the host's certificate must have, and how it came to be known (reported back in
   * the socket's `security`). Without one, an encrypted host is trusted on first use.
   */
  pin?: { fingerprint: Fingerprint; trust: 'invite' | 'remembered' | 'first-use' };
}

export type SocketFactory = (url: string, options?: SocketOptions) => SocketLike;

const SYSTEM_ERRORS: Readonly<Record<string, ErrorCode>> = {
  ECONNREFUSED: 'BEACON_ERR_REFUSED',
  ECONNRESET: 'BEACON_ERR_NETWORK',
  EHOSTUNREACH: 'BEACON_ERR_UNREACHABLE',
  ENETUNREACH: 'BEACON_ERR_UNREACHABLE',
  EADDRNOTAVAIL: 'BEACON_ERR_UNREACHABLE',
  ETIMEDOUT: 'BEACON_ERR_TIMEOUT',
  ENOTFOUND: 'BEACON_ERR_BAD_ADDRESS',
  EAI_AGAIN: 'BEACON_ERR_UNREACHABLE',
};

/**
 * What a system error code (ECONNREFUSED…) means, when it means something a person can act on; a
 * Beacon code a factory reported means itself.
 */
export function errorForSystemCode(errorCode: string | undefined): ErrorCode | null {
  if (isErrorCode(errorCode)) return errorCode;
  return (errorCode !== undefined && Object.hasOwn(SYSTEM_ERRORS, errorCode) && SYSTEM_ERRORS[errorCode]) || null;
}

/**
 * Why a connection ended. The host's reason wins; then a final meaning of the
 * close code; then what was known before the close (an error frame, a
 * goodbye, the platform's error); then the close code's own meaning. A
 * browser tells nothing about a refused connection: a close before any
 * welcome is "nothing is listening there".
 */
export function reasonForClose(
  code: number,
  reason: string,
  context: { known: ErrorCode | null; neverConnected: boolean },
): ErrorCode {
  if (isErrorCode(reason)) return reason;
  const byClose = errorForClose(code);
  if (byClose && isFinal(byClose)) return byClose;
  if (context.known) return context.known;
  if (byClose) return byClose;
  return context.neverConnected ? 'BEACON_ERR_REFUSED' : 'BEACON_ERR_NETWORK';
}

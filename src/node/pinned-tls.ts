/**
 * TLS to a Beacon host, trusted by its certificate's fingerprint rather than by any authority
 * (every host's certificate is self-signed): one check shared by the room's WebSocket and every
 * file request, made before a single byte of the request is written.
 */
import { isIP } from 'node:net';
import { connect as connectTls, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { CONNECT_TIMEOUT_MS } from '../shared/room-client.ts';
import type { Fingerprint } from '../shared/fingerprint.ts';
import { certificateFingerprint } from './certificate-fingerprint.ts';

/** OpenSSL's words for a peer that answered a TLS hello in plain text: an --insecure (or older) host. */
const PLAIN_ANSWER = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_HTTP_REQUEST',
]);

/** A connection failure as a Beacon code where one applies, with the fingerprints when the host changed. */
export type ConnectError = Error & { code?: string; fingerprints?: { expected: Fingerprint; presented: Fingerprint } };

/**
 * A createConnection for Node's HTTP client (`ws`, https.request) in its asynchronous form: the
 * client waits for `oncreate` before it writes anything, so a request (an upgrade, a file upload)
 * is written only to a socket whose certificate has the pinned fingerprint (or, with no pin, to any
 * TLS host, whose fingerprint is reported through `onPeer`).
 */
export function pinnedConnection(pin: Fingerprint | null, onPeer: (fingerprint: Fingerprint) => void) {
  return (
    opts: ConnectionOptions & { host: string },
    oncreate: (error: Error | null, socket?: TLSSocket) => void,
  ): undefined => {
    const socket = connectTls({
      ...opts,
      // `ws` puts the URL's path here; to tls.connect a path would mean a Unix socket.
      path: undefined,
      servername: isIP(opts.host) ? '' : opts.host,
      // Trust is the fingerprint below, not a certificate authority: every host's certificate is self-signed.
      rejectUnauthorized: false,
    });
    const fail = (error: ConnectError): void => {
      socket.destroy();
      oncreate(error);
    };
    const onError = (error: ConnectError): void => fail(classify(error));
    socket.once('error', onError);
    // The HTTP client's timeout starts only once it has the socket: a host stalling the handshake is cut here.
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => fail(coded('ETIMEDOUT', 'TLS handshake timed out')));
    socket.once('secureConnect', () => {
      socket.off('error', onError);
      socket.setTimeout(0);
      const raw = socket.getPeerCertificate().raw as Buffer | undefined;
      if (!raw) return fail(coded('BEACON_ERR_TLS', 'the host showed no certificate'));
      const presented = certificateFingerprint(raw);
      if (pin !== null && presented !== pin) {
        const error = coded('BEACON_ERR_HOST_CHANGED', `expected ${pin}, the host showed ${presented}`);
        error.fingerprints = { expected: pin, presented };
        return fail(error);
      }
      onPeer(presented);
      oncreate(null, socket);
    });
    return undefined;
  };
}

/** A TLS failure as a person can act on it: a host without TLS, or a system error RoomClient knows, or BEACON_ERR_TLS. */
function classify(error: ConnectError): ConnectError {
  if (error.code && PLAIN_ANSWER.has(error.code)) return coded('BEACON_ERR_NOT_ENCRYPTED', error.message);
  if (error.code && /^(ERR_SSL_|ERR_TLS_)/.test(error.code)) return coded('BEACON_ERR_TLS', error.message);
  return error;
}

function coded(code: string, message: string): ConnectError {
  return Object.assign(new Error(message), { code }) as ConnectError;
}

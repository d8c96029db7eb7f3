import { isIP } from 'node:net';
import { connect as connectTls, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import type { ConnectionSecurity } from '../shared/chat-api.ts';
import type { Fingerprint } from '../shared/fingerprint.ts';
import { CONNECT_TIMEOUT_MS, type SocketFactory, type SocketLike } from '../shared/room-client.ts';
import type { SocketOptions } from '../shared/room-socket.ts';
import { certificateFingerprint } from './certificate-fingerprint.ts';

/** OpenSSL's words for a peer that answered a TLS hello in plain text: an --insecure (or older) host. */
const PLAIN_ANSWER = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_HTTP_REQUEST',
]);
/** Status of an encrypted host's refusal of a ws:// upgrade (src/host/plain-entrance.ts). */
const ENCRYPTION_REQUIRED_STATUS = 426;

/** An error the factory reports as a Beacon code (SocketLike.onerror), with the fingerprints when the host changed. */
type ConnectError = Error & { code?: string; fingerprints?: { expected: Fingerprint; presented: Fingerprint } };

/**
 * RoomClient's socket on Node, over `ws`, which (unlike a browser) reports why a connection failed.
 *
 * For wss:// the TLS connection is made here, not by `ws`: the host's certificate is not checked
 * against any authority (every host's is self-signed) but against the pinned fingerprint, and only
 * once it matches is the socket handed to `ws`, so not one byte of the upgrade request, let alone
 * the join code, reaches a machine that is not the host. Without a pin it trusts on first use and
 * reports the fingerprint it saw.
 */
export const wsSocketFactory: SocketFactory = (url, options: SocketOptions = {}) => {
  const secure = url.startsWith('wss:');
  let presented: Fingerprint | null = null;
  // maxPayload: a host's frames are bounded by its page budgets (well under 8 MiB); a larger one is an attack.
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    handshakeTimeout: CONNECT_TIMEOUT_MS,
    maxPayload: 16 * 1024 * 1024,
    ...(secure
      ? {
          createConnection: pinnedConnection(options.pin?.fingerprint ?? null, (fingerprint) => {
            presented = fingerprint;
          }) as never,
        }
      : {}),
  });
  const socket: SocketLike = {
    send: (data) => ws.send(data),
    close: (code, reason) => (ws.readyState === WebSocket.CONNECTING ? ws.terminate() : ws.close(code, reason)),
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
  };
  ws.on('open', () => {
    socket.security = securityOf(presented, options);
    socket.onopen?.();
  });
  ws.on('message', (data, isBinary) => {
    if (!isBinary) socket.onmessage?.(data.toString());
  });
  ws.on('unexpected-response', (_req, res) => {
    // An encrypted host says why it refuses ws://; any other answer is no Beacon host's.
    socket.onerror?.(res.statusCode === ENCRYPTION_REQUIRED_STATUS ? 'BEACON_ERR_ENCRYPTION_REQUIRED' : undefined);
    ws.terminate();
  });
  ws.on('error', (error: ConnectError) => socket.onerror?.(error.code, error.fingerprints));
  ws.on('close', (code, reason) => socket.onclose?.(code, reason.toString()));
  return socket;
};

function securityOf(presented: Fingerprint | null, options: SocketOptions): ConnectionSecurity {
  if (presented === null) return { encrypted: false };
  return { encrypted: true, fingerprint: presented, trust: options.pin?.trust ?? 'first-use' };
}

/**
 * `ws`'s createConnection for wss:// in its asynchronous form: Node's HTTP client waits for
 * `oncreate` before it writes anything, so the upgrade request is written only to a socket whose
 * certificate has the pinned fingerprint (or, with no pin, to any TLS host, whose fingerprint is
 * reported through `onPeer`).
 */
function pinnedConnection(pin: Fingerprint | null, onPeer: (fingerprint: Fingerprint) => void) {
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

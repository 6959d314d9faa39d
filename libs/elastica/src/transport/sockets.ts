import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as connectTls, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { socketAddress, splitAddress } from '../common/host-port.js';
import type { HostPort, RpcOptions, TlsOptions } from '../options/elastica-options.js';
import type { Connection } from './connection.js';
import type { RefusalReason } from './handshake.js';

/** What the listener tells the registry. */
export interface ListenerEvents {
  /** A socket a peer opened (with TLS, once its TLS handshake passed). */
  accepted(socket: Socket): void;
  /** A client that failed the TLS handshake (no certificate, a foreign CA, not TLS at all); its socket is destroyed. */
  tlsRefused(reason: RefusalReason, remote: string, message: string): void;
  warn(message: string): void;
}

/**
 * The sockets under the connections: the listener, and the dials, plain TCP or, with `tls`, TLS with
 * the cluster's CA both ways. See docs/ARCHITECTURE.md, "TLS".
 */
export class Sockets {
  private server: Server | undefined;

  constructor(
    private readonly rpc: RpcOptions,
    private readonly tls: TlsOptions | undefined,
  ) {}

  /** Binds and listens; resolves with the bound port. */
  listen(bind: HostPort, events: ListenerEvents): Promise<number> {
    let server: Server;
    if (this.tls) {
      const tls = this.tls;
      server = createTlsServer(
        {
          key: tls.key,
          cert: tls.cert,
          ca: tls.ca,
          requestCert: true,
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
          handshakeTimeout: this.rpc.handshakeTimeoutMs,
        },
        (socket) => events.accepted(socket),
      );
      server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
        const reason: RefusalReason = error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'handshake_timeout' : 'tls';
        events.tlsRefused(reason, socketAddress(socket.remoteAddress, socket.remotePort), `TLS: ${error.message}`);
        socket.destroy();
      });
    } else {
      server = createServer((socket) => events.accepted(socket));
    }
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(bind.port, bind.host, () => {
        server.off('error', reject);
        server.on('error', (error) => events.warn(`listener error: ${error.message}`));
        resolve((server.address() as { port: number }).port);
      });
    });
  }

  /** Stops listening; resolves once the server is closed (at once if it never listened). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Dials `address` and hands the socket to `wrap`; a TLS failure ends the connection as a refusal, and
   * a connect that takes longer than `rpc.connectTimeoutMs` ends it too. An address connect() cannot
   * even try goes to `cannotDial` instead (thrown from a timer, it would be uncaught).
   */
  dial(
    address: string,
    wrap: (socket: Socket) => Connection,
    cannotDial: (error: Error) => void,
  ): Connection | undefined {
    let socket: Socket;
    try {
      socket = this.open(address);
    } catch (error) {
      cannotDial(error as Error);
      return undefined;
    }
    const tls = this.tls;
    let secured = false;
    if (tls) {
      // Before the Connection's own listener, so a TLS failure is reported as a refusal, not a lost socket.
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (!isTlsError(error)) return;
        const message = `TLS: ${error.message}`;
        // Before our side completed, we refused them (their certificate); after, they refused ours.
        conn.abort(secured ? { refusedByPeer: 'tls', message } : { refused: 'tls', message });
      });
    }
    const conn = wrap(socket);
    const timer = setTimeout(
      () => conn.destroy(`connect timeout after ${this.rpc.connectTimeoutMs} ms`),
      this.rpc.connectTimeoutMs,
    );
    timer.unref();
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      secured = true;
      clearTimeout(timer);
    });
    socket.once('close', () => clearTimeout(timer));
    return conn;
  }

  private open(address: string): Socket {
    return dialPeer(address, this.tls);
  }
}

/** Errors of the TLS layer (certificates, alerts, not TLS at all), as opposed to the network's. */
function isTlsError(error: NodeJS.ErrnoException): boolean {
  const code = error.code ?? '';
  return (
    /^ERR_(SSL|TLS)_|CERT|UNABLE_TO_|SELF_SIGNED|HOSTNAME_MISMATCH/.test(code) ||
    /alert|certificate|SSL routines/i.test(error.message)
  );
}

/**
 * A dial to a node's cluster port, plain or TLS: the one place the TLS settings of an outgoing
 * connection are written (peers' dials and the admin client's alike).
 */
export function dialPeer(address: string, tls: Pick<TlsOptions, 'key' | 'cert' | 'ca'> | undefined): Socket {
  const { host, port } = splitAddress(address);
  return tls
    ? connectTls({
        host,
        port,
        key: tls.key,
        cert: tls.cert,
        ca: tls.ca,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        // Only the chain is checked, not the name: docs/ARCHITECTURE.md, "TLS", and SECURITY.md.
        checkServerIdentity: () => undefined,
      })
    : connect({ host, port });
}

import { connect, type Socket } from 'node:net';
import { FrameDecoder } from '../../libs/elastica/src/transport/frame-decoder.js';
import { decodeFrame, encodeHello, type Frame } from '../../libs/elastica/src/transport/frames.js';
import {
  makeHello,
  newNonce,
  PROTOCOL_VERSION,
  type LocalIdentity,
} from '../../libs/elastica/src/transport/handshake.js';
import { until } from '../support/until.js';

/**
 * A hand-driven TCP peer for the tests that must send what a real node never would (bad bytes,
 * another protocol version), or behave as one never does (stop reading, send on a second connection).
 * It records the frames it receives and whether the node closed it.
 */
export class RawPeer {
  readonly frames: Frame[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder(1 << 20);

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk, (body) => this.frames.push(decodeFrame(body)));
      } catch {
        // the test looks at what arrived before
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static open(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new RawPeer(socket)));
      socket.once('error', reject);
    });
  }

  /**
   * Dials the node on `port` and completes the handshake as `identity` (no secret) with the library's
   * own handshake code; resolves once the node answered with its HELLO (the connection is then
   * established on both sides), fails with the node's refusal.
   */
  static async member(port: number, identity: Omit<LocalIdentity, 'secret'>): Promise<RawPeer> {
    const raw = await RawPeer.open(port);
    raw.hello(PROTOCOL_VERSION, makeHello(identity, newNonce()));
    await until('the node to answer the handshake or close', () => raw.frames.length > 0 || raw.closed, 10_000, 20);
    const first = raw.frames[0];
    if (!first || !('version' in first)) {
      raw.destroy();
      throw new Error(`the node did not answer the handshake: ${JSON.stringify(first ?? 'closed')}`);
    }
    return raw;
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  hello(version: number, fields: object): void {
    this.write(encodeHello(version, fields));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

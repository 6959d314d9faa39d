import { connect, type Socket } from 'node:net';
import { FrameDecoder } from '../../libs/elastica/src/transport/frame-decoder.js';
import { decodeFrame, encodeHello, type Frame } from '../../libs/elastica/src/transport/frames.js';

/**
 * A hand-driven TCP peer for the tests that must send what a real node never would (bad bytes,
 * another protocol version). It records the frames it receives and whether the node closed it.
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

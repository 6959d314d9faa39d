import { randomBytes } from 'node:crypto';
import { DEFAULT_RPC } from '../options/defaults.js';
import { Connection, describeClose } from '../transport/connection.js';
import { encodeRequest, FrameType } from '../transport/frames.js';
import { dialPeer } from '../transport/sockets.js';
import type { AdminCommand } from './admin.types.js';

export interface AdminClientOptions {
  /** The node's cluster port, "host:port". */
  node: string;
  cluster: string;
  secret?: string;
  /** PEM contents, as the node's `tls` option takes them. */
  tls?: { key: string | Buffer; cert: string | Buffer; ca: string | Buffer };
  /** The id this client gives in its HELLO (its certificate must name it under tls.nodeIdInCertificate). */
  id?: string;
  timeoutMs?: number;
}

/**
 * One admin connection to a node (the `elastica` CLI): the node's own handshake with Hello.role
 * `admin`, so it is authenticated like a peer (cluster, secret, TLS) but never becomes a member.
 */
export class AdminClient {
  private constructor(
    private readonly conn: Connection,
    private readonly answers: Map<number, { resolve(v: unknown): void; reject(e: Error): void }>,
    private readonly timeoutMs: number,
  ) {}

  private nextId = 1;

  static connect(options: AdminClientOptions): Promise<AdminClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const answers = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
    return new Promise((resolve, reject) => {
      const socket = dialPeer(options.node, options.tls);
      let settled = false;
      let ended = (message: string): void => void message;
      const conn = new Connection(
        socket,
        'outbound',
        {
          cluster: options.cluster,
          nodeId: options.id ?? `admin-${randomBytes(6).toString('hex')}`,
          generation: Date.now(),
          // Never dialled: an admin client is no member (the HELLO needs a well-formed address).
          advertise: '127.0.0.1:1',
          secret: options.secret,
          role: 'admin',
        },
        DEFAULT_RPC.maxFrameBytes,
        timeoutMs,
        {
          admit: () => undefined,
          commit: () => undefined,
          reached: () => undefined,
          established: (c) => {
            settled = true;
            const client = new AdminClient(c, answers, timeoutMs);
            ended = (message) => {
              for (const answer of answers.values()) answer.reject(new Error(message));
              answers.clear();
            };
            resolve(client);
          },
          frame: (_c, frame) => {
            if (frame.type !== FrameType.Reply && frame.type !== FrameType.Error) return;
            const answer = answers.get(frame.id);
            if (!answer) return;
            answers.delete(frame.id);
            if (frame.type === FrameType.Error)
              answer.reject(new Error((frame.error as { message?: string } | null)?.message ?? 'admin request failed'));
            else answer.resolve(frame.data);
          },
          closed: (_c, info) => {
            const lost = !settled && !info.refused && !info.refusedByPeer;
            const message = lost
              ? `cannot reach ${options.node}: ${info.message}`
              : `${options.node}: ${describeClose(info)}`;
            if (!settled) {
              settled = true;
              reject(new Error(message));
            } else ended(message);
          },
        },
      );
      socket.once('error', (error) => {
        if (!settled) {
          settled = true;
          reject(new Error(`cannot reach ${options.node}: ${error.message}`));
        }
      });
      void conn;
    });
  }

  request<T>(command: AdminCommand, data: unknown = null): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.answers.delete(id);
        reject(new Error(`${command}: no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.answers.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.conn.write(encodeRequest(id, command, data));
    });
  }

  close(): void {
    this.conn.close('admin client done');
  }
}

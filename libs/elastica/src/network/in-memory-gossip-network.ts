import { SeededRandom, type Random } from '../common/random.js';
import type { GossipChannel } from './gossip-channel.js';

export interface InMemoryGossipNetworkOptions {
  /** Probability that a message is lost. Default 0. */
  loss?: number;
  /** Randomness for loss; default a fixed seed, so a test replays. */
  random?: Random;
}

/**
 * A hub handing out GossipChannels per address, for tests of real services without sockets. Delivery
 * is asynchronous (setImmediate), like a network; lost and undeliverable messages are counted.
 */
export class InMemoryGossipNetwork {
  private readonly handlers = new Map<string, (from: string, bytes: Uint8Array) => void>();
  private readonly isolated = new Set<string>();
  private readonly random: Random;
  loss: number;
  delivered = 0;
  dropped = 0;

  constructor(options: InMemoryGossipNetworkOptions = {}) {
    this.loss = options.loss ?? 0;
    if (!(this.loss >= 0 && this.loss <= 1)) throw new RangeError(`loss must be within [0, 1], got ${this.loss}`);
    this.random = options.random ?? new SeededRandom(1);
  }

  /** The channel of the node advertised at `address`. */
  channel(address: string): GossipChannel {
    return {
      send: (to, bytes) => this.send(address, to, bytes),
      onMessage: (handler) => {
        this.handlers.set(address, handler);
      },
    };
  }

  /** Cuts `address` off (both directions) until `reconnect`. */
  isolate(address: string): void {
    this.isolated.add(address);
  }

  reconnect(address: string): void {
    this.isolated.delete(address);
  }

  /** Unplugs `address` for good: its channel's messages go nowhere and nothing reaches it. */
  unplug(address: string): void {
    this.handlers.delete(address);
    this.isolated.add(address);
  }

  private send(from: string, to: string, bytes: Uint8Array): void {
    if (this.isolated.has(from) || this.isolated.has(to) || (this.loss > 0 && this.random.next() < this.loss)) {
      this.dropped++;
      return;
    }
    const copy = bytes.slice();
    setImmediate(() => {
      const handler = this.handlers.get(to);
      if (!handler || this.isolated.has(to)) {
        this.dropped++;
        return;
      }
      this.delivered++;
      handler(from, copy);
    });
  }
}

import { Logger } from '@nestjs/common';
import type { GossipChannel } from './gossip-channel.js';

/**
 * The honest fallback while no transport provides GOSSIP_CHANNEL: nothing is sent or received, so the
 * node is a cluster of one, and it says so once.
 */
export class UnconfiguredGossipChannel implements GossipChannel {
  private warned = false;

  send(to: string): void {
    if (this.warned) return;
    this.warned = true;
    new Logger('Elastica:Gossip').warn(`no gossip transport is configured (GOSSIP_CHANNEL); messages to ${to} and every other peer are dropped: this node is a cluster of one`);
  }

  onMessage(): void {}
}

import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { GossipService } from '../gossip/gossip.service.js';
import { PartitionerService } from '../ring/partitioner.service.js';
import { TOKENS_KEY } from '../ring/token-codec.js';

/**
 * Elastica's health checks for `@nestjs/terminus` (the `elastica/terminus` entry point): liveness,
 * readiness and "safe to stop" probes for an orchestrator. Each answers down, with the reason in its
 * data, until it holds; terminus turns a down check into a 503.
 *
 * Add it to the providers of a module that imports TerminusModule (ElasticaModule provides the
 * services it reads).
 */
@Injectable()
export class ElasticaHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly gossip: GossipService,
    private readonly partitioner: PartitionerService,
  ) {}

  /** Joined: this node is `up` in its own view (not joining, leaving or gone). */
  isJoined<const Key extends string>(key: Key): HealthIndicatorResult<Key> {
    const check = this.health.check(key);
    const self = this.gossip.member(this.gossip.localNodeId);
    const status = self?.status ?? 'stopped';
    return status === 'up'
      ? check.up({ node: this.gossip.localNodeId })
      : check.down({ node: this.gossip.localNodeId, reason: `this node is ${status}` });
  }

  /**
   * Ready: this node's tokens are settled and published, its ring is built, and every member that is up
   * and has published tokens owns ranges in it (the ring has caught up with the membership).
   */
  isReady<const Key extends string>(key: Key): HealthIndicatorResult<Key> {
    const check = this.health.check(key);
    const joined = this.isJoined(key);
    if (joined[key].status !== 'up') return joined;
    if (!this.partitioner.isReady)
      return check.down({ reason: `tokens ${this.partitioner.tokenPhase}, ring not built yet` });
    const owners = new Set(this.partitioner.ring.nodeIds);
    const missing = this.gossip
      .members()
      .filter((m) => m.status === 'up' && (m.state[TOKENS_KEY] ?? '') !== '' && !owners.has(m.id))
      .map((m) => m.id);
    if (missing.length > 0) return check.down({ reason: `the ring lacks ${missing.join(', ')}` });
    return check.up({ owners: owners.size, ringVersion: this.partitioner.version });
  }

  /**
   * Safe to stop: no member is joining or leaving, this node's tokens are settled, and the application
   * reports no handoff in progress (PartitionerService.reportHandoff): stopping now moves no range twice
   * and loses no copy in flight. An orchestrator stops nodes one at a time, each once this holds.
   */
  isSafeToStop<const Key extends string>(key: Key): HealthIndicatorResult<Key> {
    const check = this.health.check(key);
    const moving = this.gossip
      .members()
      .filter((m) => m.status === 'joining' || m.status === 'leaving')
      .map((m) => `${m.id} is ${m.status}`);
    if (this.partitioner.tokenPhase !== 'settled') moving.push(`this node's tokens are ${this.partitioner.tokenPhase}`);
    if (this.partitioner.handoffInProgress) moving.push('a handoff is in progress');
    return moving.length === 0 ? check.up() : check.down({ reason: moving.join('; ') });
  }
}

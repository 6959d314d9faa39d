import type { Versioned } from '../store/versioned.js';
import type { AntiEntropy } from './anti-entropy.js';
import type { KvCluster, KvLog } from './kv-cluster.js';
import type { KvNodeOptions } from './kv-node-options.js';
import type { KvCounters } from './kv-stats.js';
import type { LocalReplica } from './local-replica.js';
import { byTarget, planDecommission, planPlacement } from './placement-planner.js';

export interface HandoffResult {
  /** Keys held here. */
  keys: number;
  /** Copies their targets acknowledged holding (one key to three targets is three copies). */
  sent: number;
  /** Copies not acknowledged: refused by their target (e.g. its store is full), or it failed or was unreachable. */
  undelivered: number;
  /** Keys no other node would replicate: nobody to hand them to. */
  unplaced: number;
  /** Targets that failed, were unreachable, or refused copies. */
  failedTargets: string[];
  /** Every key is held by every node it was meant for: nothing is left that only this node has. */
  complete: boolean;
}

export interface PlacementRoundResult {
  pulled: number;
  pushed: number;
  handedOff: number;
  dropped: number;
  failedPeers: string[];
}

/**
 * Moving copies to where the ring says they belong: after a ring change (copies this node no longer
 * replicates) and on a decommission (every copy). A copy counts as delivered only when its target
 * says it holds it, and only a delivered copy may be dropped here.
 */
export class Handoff {
  constructor(
    private readonly cluster: KvCluster,
    private readonly local: LocalReplica,
    private readonly antiEntropy: AntiEntropy,
    private readonly options: KvNodeOptions,
    private readonly counters: KvCounters,
    /** How long ago the ring last changed: copies are dropped only once it has been still a while. */
    private readonly sinceRingChangeMs: () => number,
    private readonly log: KvLog,
  ) {}

  /**
   * Puts this node's copies where the ring says they belong: anti-entropy with every reachable peer
   * (which also brings a new or returning replica what it lacks, and this node what it lacks), then
   * copies it no longer replicates go to their replicas and, once all of them have them and the ring
   * has been still for `orphanGraceMs`, are dropped here.
   */
  async placementRound(): Promise<PlacementRoundResult> {
    const storage = this.local.storage;
    const plan = planPlacement(storage.keys(), this.cluster.self, (key) => this.cluster.replicasOf(key));
    const peers = this.cluster.peers();
    this.antiEntropy.forgetCursorsExcept(peers);
    const failedPeers: string[] = [];
    let pulled = 0;
    let pushed = 0;
    await Promise.all(
      peers.map(async (peer) => {
        try {
          const [p, q] = await this.antiEntropy.syncWith(peer, plan.shared.get(peer) ?? []);
          pulled += p;
          pushed += q;
        } catch (error) {
          failedPeers.push(peer);
          this.log('warn', `anti-entropy with ${peer} failed: ${(error as Error).message}`);
        }
      }),
    );
    const sent = new Map<string, Versioned>();
    for (const key of plan.orphans.keys()) sent.set(key, storage.get(key)!);
    const delivered = await this.deliver(byTarget(plan.orphans), failedPeers);
    let dropped = 0;
    if (this.sinceRingChangeMs() >= this.options.orphanGraceMs) {
      for (const [key, targets] of plan.orphans) {
        // Dropped only if every replica has it and nothing newer arrived here meanwhile.
        if (targets.every((t) => delivered.get(t)?.has(key)) && storage.get(key) === sent.get(key)) {
          storage.remove(key);
          dropped++;
        }
      }
      this.counters.orphansDropped += dropped;
    }
    let handedOff = 0;
    for (const keys of delivered.values()) handedOff += keys.size;
    return { pulled, pushed, handedOff, dropped, failedPeers };
  }

  /**
   * A decommission: every copy held here goes to the replicas it will have once this node is gone.
   * Complete only when every one of them acknowledged holding it, and every key had somewhere to go.
   */
  async handOffAll(): Promise<HandoffResult> {
    const storage = this.local.storage;
    const plan = planDecommission(storage.keys(), this.cluster.self, (key) =>
      this.cluster.replicasWithout(key, this.cluster.self),
    );
    const failedTargets: string[] = [];
    const delivered = await this.deliver(plan.byTarget, failedTargets);
    let sent = 0;
    let undelivered = 0;
    for (const keys of delivered.values()) sent += keys.size;
    for (const [target, keys] of plan.byTarget) undelivered += this.unacknowledged(keys, delivered.get(target));
    const unplaced = plan.unplaced.filter((key) => storage.has(key)).length;
    return {
      keys: storage.size,
      sent,
      undelivered,
      unplaced,
      failedTargets: [...new Set(failedTargets)].sort(),
      complete: undelivered === 0 && unplaced === 0,
    };
  }

  /**
   * Pushes the given keys to each target; returns, per target, the keys it acknowledged holding. A
   * target that fails, is unreachable, or refuses some keys goes into `failed`.
   */
  private async deliver(keysByTarget: Map<string, string[]>, failed: string[]): Promise<Map<string, Set<string>>> {
    const delivered = new Map<string, Set<string>>();
    await Promise.all(
      [...keysByTarget].map(async ([target, keys]) => {
        if (!this.cluster.isReachable(target)) {
          failed.push(target);
          return;
        }
        const accepted = new Set<string>();
        delivered.set(target, accepted);
        try {
          await this.antiEntropy.push(target, keys, accepted, true);
          const refused = this.unacknowledged(keys, accepted);
          if (refused > 0) {
            failed.push(target);
            this.log('warn', `${target} refused ${refused} of the ${keys.length} copies handed to it; they stay here`);
          }
        } catch (error) {
          failed.push(target);
          this.log(
            'warn',
            `handing ${keys.length} keys to ${target} failed after ${accepted.size} were accepted: ${(error as Error).message}`,
          );
        } finally {
          this.counters.handedOff += accepted.size;
        }
      }),
    );
    return delivered;
  }

  /** How many of `keys` are still held here but not in `accepted` (a key gone meanwhile, e.g. a collected tombstone, needs no copy). */
  private unacknowledged(keys: readonly string[], accepted: ReadonlySet<string> | undefined): number {
    let count = 0;
    for (const key of keys) if (!accepted?.has(key) && this.local.storage.has(key)) count++;
    return count;
  }
}

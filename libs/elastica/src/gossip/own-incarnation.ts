import type { GossipOptions } from '../options/elastica-options.js';
import { stampableVersion } from './admission.js';
import { EndpointState, entryBytes, stateBytesAfter } from './endpoint-state.js';
import type { GossipStats } from './gossip-stats.js';
import type { GossipListener, MemberStatus } from './gossip.types.js';
import type { LeaveProtocol } from './leave-protocol.js';
import type { MembershipTable } from './membership-table.js';
import { entryWireSize } from './message-packer.js';
import { FORGOTTEN_KEY } from './forgotten.js';
import { MAX_VERDICTS_LENGTH, VERDICTS_KEY } from './verdicts.js';
import type { AnnouncedStatus, Identity } from './wire/messages.js';

/** The largest verdicts entry (see MAX_VERDICTS_LENGTH), kept out of what set() may use. */
const VERDICTS_RESERVE_BYTES = entryBytes(VERDICTS_KEY, 'x'.repeat(MAX_VERDICTS_LENGTH));

/**
 * This node's own incarnation, of which it is the authority: its state, written within the bounds its
 * peers admit, its heartbeat and announced status, and a new generation whenever a peer claims a newer
 * state of it (docs/ARCHITECTURE.md, Gossip › Self-stabilization).
 */
export class OwnIncarnation {
  private endpoint: EndpointState;

  constructor(
    { id, address, generation }: Identity,
    private readonly options: GossipOptions,
    private readonly table: MembershipTable,
    private readonly departure: LeaveProtocol,
    private readonly stats: GossipStats,
    private readonly listener: GossipListener,
  ) {
    this.endpoint = new EndpointState(id, address, generation, 'joining');
    table.register(this.endpoint);
  }

  get current(): EndpointState {
    return this.endpoint;
  }

  /** A new heartbeat, the next version: this node is alive this round. */
  beat(): void {
    this.endpoint.heartbeat = ++this.endpoint.maxVersion;
  }

  /** Announces `status` with a new heartbeat; returns the status it had. */
  announce(status: AnnouncedStatus): MemberStatus {
    const before = this.endpoint.status;
    this.endpoint.announced = status;
    this.beat();
    return before;
  }

  /** Publishes `key` = `value` under a new version; throws a RangeError when peers would not take it. */
  write(key: string, value: string, nowMs: number): void {
    const self = this.endpoint;
    const version = self.maxVersion + 1;
    const { size, limit } = this.wireSize(key, value);
    if (size > limit)
      throw new RangeError(
        `gossip state "${key}" takes ${size} bytes on the wire; at most ${limit} fit in gossip.mtuBytes (${this.options.mtuBytes})`,
      );
    if (self.keys.get(key)?.value === value) return;
    // Room for this node's own verdicts is kept aside, so publishing one never fails for want of it,
    // and user keys are measured without them (else set() would fail only while peers are convicted).
    const verdicts = self.keys.get(VERDICTS_KEY);
    const budget =
      key === VERDICTS_KEY ? this.options.maxStateBytes : this.options.maxStateBytes - VERDICTS_RESERVE_BYTES;
    const bytes =
      stateBytesAfter(self, [{ version, key, value }]) -
      (key !== VERDICTS_KEY && verdicts ? entryBytes(VERDICTS_KEY, verdicts.value) : 0);
    if (bytes > budget)
      throw new RangeError(
        `gossip state "${key}" would bring this node's state to ${bytes} bytes; at most ${budget} allowed (gossip.maxStateBytes ${this.options.maxStateBytes}, less ${VERDICTS_RESERVE_BYTES} kept for the core's verdicts)`,
      );
    // Peers refuse versions beyond what its owner can have stamped; stay well inside it (half the clock skew).
    if (version > stampableVersion(self.generation, nowMs, this.options.maxGenerationSkewMs / 2)) {
      throw new RangeError(
        `gossip state "${key}" would take version ${version}: more state changes since this node started than its peers accept (see gossip.maxGenerationSkewMs)`,
      );
    }
    self.maxVersion = version;
    self.put(key, value, version);
    if (key !== VERDICTS_KEY && key !== FORGOTTEN_KEY)
      this.listener.change?.({ nodeId: self.id, key, value, version }, nowMs);
  }

  /** Whether `key` = `value` fits one message, whatever else is sent with it. */
  fits(key: string, value: string): boolean {
    const { size, limit } = this.wireSize(key, value);
    return size <= limit;
  }

  /** Publishes `value` as this node's verdicts, if it is new; one that cannot be published is reported. */
  publishVerdicts(value: string, nowMs: number): void {
    if (value === (this.endpoint.keys.get(VERDICTS_KEY)?.value ?? '')) return;
    try {
      this.write(VERDICTS_KEY, value, nowMs);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      this.listener.notice?.('warn', `verdicts not published: ${error.message}`);
    }
  }

  /** A peer holds a newer state of this node than it has: a new generation above the claim (see the class). */
  refute(claimedGeneration: number, nowMs: number, reason: string): void {
    const old = this.endpoint;
    const generation = Math.max(nowMs, claimedGeneration + 1, old.generation + 1);
    const endpoint = new EndpointState(old.id, old.address, generation, old.announced);
    const keys = [...old.keys].sort((a, b) => a[1].version - b[1].version);
    for (const [key, { value }] of keys) endpoint.put(key, value, ++endpoint.maxVersion);
    endpoint.heartbeat = ++endpoint.maxVersion;
    this.table.forget(old, 'replaced', nowMs + this.options.tombstoneTtlMs);
    this.endpoint = endpoint;
    this.table.register(endpoint);
    this.departure.forgetConfirmations();
    if (this.departure.announcing) this.departure.awaitConfirmation(endpoint.maxVersion);
    this.stats.refutations++;
    this.listener.notice?.('warn', `${reason}; this node takes generation ${generation} so that its own state wins`);
  }

  /** `claim` (a peer claims, holds or sent) `version` of this node, beyond its own: refutes it. */
  refuteVersion(claim: string, version: number, nowMs: number): void {
    const { generation, maxVersion } = this.endpoint;
    this.refute(generation, nowMs, `${claim} version ${version} of it, ahead of its own ${maxVersion}`);
  }

  private wireSize(key: string, value: string): { size: number; limit: number } {
    return entryWireSize(this.endpoint, key, value, this.options.mtuBytes);
  }
}

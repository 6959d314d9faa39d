import { randomInt, shuffle, type Random } from '../common/random.js';
import type { GossipOptions } from '../options/elastica-options.js';
import { EndpointState, entryBytes, stateBytesAfter } from './endpoint-state.js';
import type {
  GossipListener,
  LivenessOracle,
  Member,
  MembershipEventType,
  MemberStatus,
  ViewEntry,
} from './gossip.types.js';
import {
  decodeVerdicts,
  encodeVerdicts,
  MAX_VERDICTS,
  MAX_VERDICTS_LENGTH,
  VERDICTS_KEY,
  type Verdict,
} from './verdicts.js';
import { GossipDecodeError } from '../errors/gossip-decode.error.js';
import { varintSize } from './wire/bytes.js';
import {
  decodeMessage,
  deltaOverhead,
  digestEntrySize,
  encodeMessage,
  headerSize,
  itemSize,
  PREAMBLE_BYTES,
} from './wire/codec.js';
import type { AnnouncedStatus, Delta, DigestEntry, GossipMessage, Item, MessageHeader } from './wire/messages.js';

export interface GossipNodeConfig {
  id: string;
  /** This node's advertised "host:port". */
  address: string;
  /** Start time of this run (ms since the epoch); higher on every restart. */
  generation: number;
  /** "host:port" of the seeds; this node's own address may be among them. */
  seeds: readonly string[];
  options: GossipOptions;
  random: Random;
  liveness: LivenessOracle;
  listener?: GossipListener;
}

/** A message to send, already encoded: the channel carries it opaquely. */
export interface Outgoing {
  to: string;
  bytes: Uint8Array;
}

export type LeavePhase = 'none' | 'leaving' | 'left' | 'done';

export interface GossipStats {
  messagesSent: number;
  bytesSent: number;
  messagesReceived: number;
  bytesReceived: number;
  malformed: number;
  refusedGenerations: number;
  /** Versions claimed for an incarnation beyond what its owner can have stamped (see plausibleVersion). */
  refusedVersions: number;
  refutations: number;
  /** Verdict values or entries refused: malformed, or naming a heartbeat its owner cannot have stamped. */
  refusedVerdicts: number;
  /** Peers marked down on another node's gossiped verdict rather than by this node's own detector. */
  adoptedVerdicts: number;
  /** Gossip messages longer than gossip.mtuBytes, dropped unread. */
  refusedOversized: number;
  /** Deltas that would have taken a node's state past gossip.maxStateBytes. */
  refusedState: number;
  /** New nodes refused because gossip.maxMembers were known already. */
  refusedMembers: number;
}

interface Candidate {
  st: EndpointState;
  after: number;
  count: number;
  lag: number;
}

type RetiredReason = 'down' | 'left' | 'replaced';

/** Largest header: two refs and two varints of at most 8 bytes. */
const MAX_HEADER_BYTES = 12 + 8 + 8;
const MAX_RETIRED = 20_000;
/** Extra peers a leaving node tells each round, so the news spreads fast in small clusters. */
const LEAVE_FANOUT = 3;
/** Heartbeats seen advancing before phi, rather than a plain timeout, judges a newly learned incarnation. */
const PROBATION_FEEDS = 30;
/**
 * Seed attempts at `seedRetryMinMs` before the backoff starts doubling (and is logged): nodes started
 * together come up in any order, and the seed's process may listen a few seconds after the others';
 * doubling from the first miss made a joiner wait up to 4 s more for a seed that was already up.
 */
const FLAT_SEED_ATTEMPTS = 5;
/** Suspicion (phi / threshold) from which a peer is probed directly every round: phi 1 at the default threshold 8. */
const SUSPICION_PROBE = 1 / 8;
/**
 * A suspect still unheard after a probe gets one more ping each round, up to this many: a ping and
 * its pong both cross a lossy network (10% loss fails 19% of them), and each round of silence brings
 * phi closer to convicting a node that would have answered.
 */
const MAX_PINGS_PER_ROUND = 3;
/**
 * Suspicion (phi / threshold) this node must itself hold of a peer before it adopts another node's
 * verdict on it: phi 1 at the default threshold 8, i.e. its own detector has started to wonder too.
 */
const VERDICT_SUSPICION = 1 / 8;
/** A verdict (published or heard) lives this many first-contact timeouts: long enough to cross the cluster. */
const VERDICT_TTL_FIRST_CONTACTS = 3;
/** The largest verdicts entry (see MAX_VERDICTS_LENGTH), kept out of what set() may use. */
const VERDICTS_RESERVE_BYTES = entryBytes(VERDICTS_KEY, 'x'.repeat(MAX_VERDICTS_LENGTH));
/** Refused claims are logged at most once per this, with the counts: a hostile peer must not flood the log. */
const REFUSAL_LOG_EVERY_MS = 60_000;

/**
 * The Scuttlebutt gossip core of one node (van Renesse et al. 2008, with Cassandra's peer choice and
 * lifecycle). Pure: time, randomness and incoming bytes go in; bytes to send come out; membership and
 * state changes are reported through the listener. The Nest service and the simulator both drive it.
 */
export class GossipNode {
  readonly id: string;
  readonly address: string;
  readonly stats: GossipStats = {
    messagesSent: 0,
    bytesSent: 0,
    messagesReceived: 0,
    bytesReceived: 0,
    malformed: 0,
    refusedGenerations: 0,
    refusedVersions: 0,
    refutations: 0,
    refusedVerdicts: 0,
    adoptedVerdicts: 0,
    refusedOversized: 0,
    refusedState: 0,
    refusedMembers: 0,
  };

  private self: EndpointState;
  private readonly byId = new Map<string, EndpointState>();
  private readonly byRef = new Map<number, EndpointState>();
  private readonly byAddress = new Map<string, EndpointState>();
  /** Incarnations this node dropped, refused until `until` so old gossip cannot bring them back. */
  private readonly retired = new Map<number, { until: number; reason: RetiredReason }>();
  /** For each peer, the version of this node's current incarnation it told us it has. */
  private readonly peerKnowsMe = new Map<string, number>();
  private readonly seeds: string[];
  private readonly options: GossipOptions;
  private readonly random: Random;
  private readonly liveness: LivenessOracle;
  private readonly listener: GossipListener;
  private ticks = 0;
  private stopped = false;
  private lastRefusalLogAt = -Infinity;
  /** Address of the message being handled, for the log lines of refusals. */
  private sender = '';
  /** This node's own convictions, gossiped under VERDICTS_KEY; insertion order is age (oldest first). */
  private readonly ownVerdicts = new Map<number, { heartbeat: number; at: number }>();
  private ownVerdictsChanged = false;
  /** Verdict values of the message being applied (one per owner at most). */
  private readonly pendingVerdicts: { owner: EndpointState; value: string }[] = [];
  /** Incarnations just learned through third parties, pinged before this message's replies go out. */
  private readonly unheard: EndpointState[] = [];
  /** Others' verdicts not yet adopted or outdated, by the ref they convict: the highest heartbeat heard. */
  private readonly heardVerdicts = new Map<number, { heartbeat: number; until: number }>();

  private seedBackoffMs: number;
  private nextSeedAttemptAt = -Infinity;
  private seedAttempts = 0;

  private leavePhase: LeavePhase = 'none';
  private leaveStartedAt = 0;
  private leaveTarget = 0;
  private leavePhaseTick = 0;

  constructor(config: GossipNodeConfig) {
    this.id = config.id;
    this.address = config.address;
    this.options = config.options;
    this.random = config.random;
    this.liveness = config.liveness;
    this.listener = config.listener ?? {};
    this.seeds = [...new Set(config.seeds)].filter((seed) => seed !== config.address);
    this.seedBackoffMs = this.options.seedRetryMinMs;
    this.self = new EndpointState(config.id, config.address, config.generation, 'joining');
    this.register(this.self);
  }

  /**
   * Drops a seed the network found to be this node under another spelling of its address (the
   * constructor drops only the exact one). With no seed left, the next tick goes `up` as a seedless node.
   */
  forgetSeed(address: string): void {
    const at = this.seeds.indexOf(address);
    if (at !== -1) this.seeds.splice(at, 1);
  }

  get localNodeId(): string {
    return this.id;
  }

  get generation(): number {
    return this.self.generation;
  }

  get heartbeat(): number {
    return this.self.heartbeat;
  }

  get phase(): LeavePhase {
    return this.leavePhase;
  }

  get isStopped(): boolean {
    return this.stopped || this.leavePhase === 'done';
  }

  /** Known incarnations, this node included. */
  get size(): number {
    return this.byId.size;
  }

  // ---- application state -------------------------------------------------------------------------

  /** Publishes `key` = `value` as this node's state, under a new version. */
  set(key: string, value: string, nowMs: number): void {
    if (typeof key !== 'string' || key.length === 0)
      throw new TypeError(`gossip state key must be a non-empty string, got ${JSON.stringify(key)}`);
    if (key === VERDICTS_KEY)
      throw new TypeError(`gossip state key "${key}" is the core's own (its gossiped verdicts)`);
    if (typeof value !== 'string')
      throw new TypeError(`gossip state value of "${key}" must be a string, got ${typeof value}`);
    this.write(key, value, nowMs);
  }

  private write(key: string, value: string, nowMs: number): void {
    const version = this.self.maxVersion + 1;
    const { size, limit } = this.wireSize(key, value);
    if (size > limit)
      throw new RangeError(
        `gossip state "${key}" takes ${size} bytes on the wire; at most ${limit} fit in gossip.mtuBytes (${this.options.mtuBytes})`,
      );
    if (this.self.keys.get(key)?.value === value) return;
    // Room for this node's own verdicts is kept aside, so publishing one never fails for want of it,
    // and user keys are measured without them (else set() would fail only while peers are convicted).
    const verdicts = this.self.keys.get(VERDICTS_KEY);
    const budget =
      key === VERDICTS_KEY ? this.options.maxStateBytes : this.options.maxStateBytes - VERDICTS_RESERVE_BYTES;
    const bytes =
      stateBytesAfter(this.self, [{ version, key, value }]) -
      (key !== VERDICTS_KEY && verdicts ? entryBytes(VERDICTS_KEY, verdicts.value) : 0);
    if (bytes > budget)
      throw new RangeError(
        `gossip state "${key}" would bring this node's state to ${bytes} bytes; at most ${budget} allowed (gossip.maxStateBytes ${this.options.maxStateBytes}, less ${VERDICTS_RESERVE_BYTES} kept for the core's verdicts)`,
      );
    // Peers refuse versions beyond plausibleVersion's bound; stay well inside it (half the clock skew).
    if (version > nowMs - this.self.generation + this.options.maxGenerationSkewMs / 2) {
      throw new RangeError(
        `gossip state "${key}" would take version ${version}: more state changes since this node started than its peers accept (see gossip.maxGenerationSkewMs)`,
      );
    }
    this.self.maxVersion = version;
    this.self.put(key, value, version);
    if (key !== VERDICTS_KEY) this.listener.change?.({ nodeId: this.id, key, value, version }, nowMs);
  }

  /**
   * Bytes `key` = `value` takes in a delta of this node (its identity included, its version with room
   * to grow), and what one message can hold beside the largest header: a state that fits always travels.
   */
  private wireSize(key: string, value: string): { size: number; limit: number } {
    const size =
      itemSize({ version: this.self.maxVersion + 1_000_001, key, value }) + deltaOverhead(this.self.identity);
    return { size, limit: this.options.mtuBytes - PREAMBLE_BYTES - MAX_HEADER_BYTES - 4 };
  }

  private fits(key: string, value: string): boolean {
    const { size, limit } = this.wireSize(key, value);
    return size <= limit;
  }

  get(nodeId: string, key: string): string | undefined {
    return this.byId.get(nodeId)?.keys.get(key)?.value;
  }

  /** The version of `key` of `nodeId` known here (0 when absent). */
  versionOf(nodeId: string, key: string): number {
    return this.byId.get(nodeId)?.keys.get(key)?.version ?? 0;
  }

  /** What this node holds of `nodeId`'s current incarnation, with versions (for inspection and tests). */
  snapshot(
    nodeId: string,
  ): { generation: number; heartbeat: number; maxVersion: number; versions: Record<string, number> } | undefined {
    const st = this.byId.get(nodeId);
    if (!st) return undefined;
    const versions: Record<string, number> = {};
    for (const [key, entry] of st.keys) versions[key] = entry.version;
    return { generation: st.generation, heartbeat: st.heartbeat, maxVersion: st.maxVersion, versions };
  }

  members(): Member[] {
    return [...this.byId.values()].map((st) => this.toMember(st));
  }

  member(nodeId: string): Member | undefined {
    const st = this.byId.get(nodeId);
    return st && this.toMember(st);
  }

  /** Status as seen here, without building the whole member (cheap, for the simulator). */
  statusOf(nodeId: string): MemberStatus | undefined {
    return this.byId.get(nodeId)?.status;
  }

  generationOf(nodeId: string): number | undefined {
    return this.byId.get(nodeId)?.generation;
  }

  nodeIds(): IterableIterator<string> {
    return this.byId.keys();
  }

  private toMember(st: EndpointState): Member {
    return {
      id: st.id,
      address: st.address,
      status: st.status,
      generation: st.generation,
      heartbeat: st.heartbeat,
      state: st.userState(),
    };
  }

  // ---- rounds ------------------------------------------------------------------------------------

  /** One gossip round: bump the heartbeat, judge peers, and start an exchange with the chosen peers. */
  tick(nowMs: number): Outgoing[] {
    if (this.isStopped) return [];
    this.ticks++;
    this.self.heartbeat = ++this.self.maxVersion;
    if (this.self.announced === 'joining' && this.seeds.length === 0) this.setOwnStatus('up', nowMs);

    const live: EndpointState[] = [];
    const unreachable: EndpointState[] = [];
    const probes: EndpointState[] = [];
    const suspects: EndpointState[] = [];
    for (const st of [...this.byId.values()]) {
      if (st === this.self) continue;
      this.judge(st, nowMs);
      if (!this.byId.has(st.id) || st.announced === 'left') continue;
      if (!st.down) {
        live.push(st);
        // Relayed news of it is late: ask it directly (an answer is a heartbeat) before phi convicts
        // it for what may be nothing but an unlucky run of gossip partners. On probation too: the
        // moment probation ends phi judges, and a silence phi already finds too long must have been probed.
        if (st.feeds > 0 && (this.liveness.suspicion?.(st.id, nowMs) ?? 0) >= SUSPICION_PROBE) suspects.push(st);
        else st.probeRounds = 0;
      } else {
        unreachable.push(st);
        // Third parties say it is alive: ask it directly, since only its own word may clear `down`.
        if (Math.max(st.heartbeat, st.heartbeatFed) > st.heartbeatAtConviction) probes.push(st);
      }
    }

    this.maintainVerdicts(nowMs);

    const targets = new Set<string>();
    const liveCount = live.length;
    const fanout = this.leavePhase === 'leaving' || this.leavePhase === 'left' ? LEAVE_FANOUT : 1;
    for (let i = 0; i < fanout && i < live.length; i++) {
      const j = i + randomInt(this.random, live.length - i);
      const picked = live[j];
      live[j] = live[i]!;
      live[i] = picked;
      targets.add(picked.address);
    }
    // Cassandra's rule: now and then an unreachable node, so partitions heal and the dead are re-checked.
    if (unreachable.length > 0 && this.random.next() < unreachable.length / (liveCount + 1)) {
      targets.add(unreachable[randomInt(this.random, unreachable.length)].address);
    }
    this.maybeGossipToSeed(targets, liveCount, unreachable.length, nowMs);

    const out: Outgoing[] = [];
    for (const to of targets) this.push(out, to, this.buildSyn(to));
    for (const st of probes) if (!targets.has(st.address)) this.ping(out, st.address);
    for (const st of suspects) {
      const pings = Math.min(1 + st.probeRounds++, MAX_PINGS_PER_ROUND) - (targets.has(st.address) ? 1 : 0);
      for (let i = 0; i < pings; i++) this.ping(out, st.address);
    }

    this.advanceLeave(nowMs, liveCount);
    if (this.ticks % 64 === 0) this.purgeRetired(nowMs);
    return out;
  }

  /** Handles one incoming message; returns the replies. Malformed input is counted and dropped. */
  receive(from: string, bytes: Uint8Array, nowMs: number): Outgoing[] {
    if (this.isStopped) return [];
    this.stats.messagesReceived++;
    this.stats.bytesReceived += bytes.length;
    this.sender = from;
    if (bytes.length > this.options.mtuBytes) {
      // No peer of this cluster sends more than the MTU; reading it could make this node hold more than any state allows.
      this.stats.refusedOversized++;
      this.noteRefusal(
        nowMs,
        `refused a gossip message of ${bytes.length} bytes from ${from}: more than gossip.mtuBytes (${this.options.mtuBytes}); every node of a cluster must use the same gossip.mtuBytes`,
      );
      return [];
    }
    let message: GossipMessage;
    try {
      message = decodeMessage(bytes);
    } catch (error) {
      if (!(error instanceof GossipDecodeError)) throw error;
      this.stats.malformed++;
      if (this.stats.malformed <= 10 || this.stats.malformed % 1000 === 0) {
        this.listener.notice?.(
          'warn',
          `dropped malformed gossip from ${from} (${this.stats.malformed} so far): ${error.message}`,
        );
      }
      return [];
    }
    this.heardFrom(message.header, nowMs);
    const out: Outgoing[] = [];
    switch (message.type) {
      case 'syn':
        this.push(out, from, this.buildAck(from, message.digests, message.complete, nowMs));
        break;
      case 'ack': {
        for (const delta of message.deltas) this.applyDelta(delta, message.header.senderRef, nowMs);
        const ack2 = this.buildAck2(from, message.requests, nowMs);
        if (ack2.deltas.length > 0) this.push(out, from, ack2);
        break;
      }
      case 'ack2':
        for (const delta of message.deltas) this.applyDelta(delta, message.header.senderRef, nowMs);
        break;
      case 'ping':
        this.push(out, from, { type: 'pong', header: this.header(from) });
        break;
      case 'pong':
        break;
    }
    if (this.pendingVerdicts.length > 0) {
      for (const { owner, value } of this.pendingVerdicts.splice(0))
        if (this.byRef.get(owner.ref) === owner) this.hearVerdicts(owner, value, nowMs);
    }
    // Asked at once rather than at the next round: only its own answer makes it `up` here, and the
    // ring waits for every node to be up everywhere (a join is agreed one round sooner).
    for (const st of this.unheard.splice(0)) if (st.down && this.byRef.get(st.ref) === st) this.ping(out, st.address);
    return out;
  }

  /** Stops for good without a word to anyone (a crash, or a shutdown without `leave`). */
  stop(): void {
    this.stopped = true;
  }

  // ---- leaving -----------------------------------------------------------------------------------

  /**
   * Starts a graceful departure: announce `leaving`, wait for the news to spread (or half of
   * `leaveTimeoutMs`), announce `left`, wait again, then stop (phase `done`). Returns the first messages.
   */
  leave(nowMs: number): Outgoing[] {
    if (this.leavePhase !== 'none' || this.stopped) return [];
    this.leavePhase = 'leaving';
    this.leaveStartedAt = nowMs;
    this.leavePhaseTick = this.ticks;
    this.setOwnStatus('leaving', nowMs);
    this.leaveTarget = this.self.maxVersion;
    const out: Outgoing[] = [];
    const live = [...this.byId.values()].filter((st) => st !== this.self && !st.down && st.announced !== 'left');
    shuffle(this.random, live);
    for (const st of live.slice(0, LEAVE_FANOUT)) this.push(out, st.address, this.buildSyn(st.address));
    return out;
  }

  private advanceLeave(nowMs: number, liveCount: number): void {
    if (this.leavePhase !== 'leaving' && this.leavePhase !== 'left') return;
    let confirmed = 0;
    let live = 0;
    for (const st of this.byId.values()) {
      if (st === this.self || st.down || st.announced === 'left') continue;
      live++;
      if ((this.peerKnowsMe.get(st.id) ?? 0) >= this.leaveTarget) confirmed++;
    }
    // In a big cluster not every peer will say so in time: a few confirmations plus the rounds an
    // epidemic needs (log3 N + ln ln N) is as good as it gets without a broadcast.
    const n = Math.max(3, live + 1);
    const spreadRounds = Math.ceil(Math.log(n) / Math.log(3) + Math.log(Math.log(n))) + 2;
    const spread =
      confirmed === live ||
      (confirmed >= Math.min(LEAVE_FANOUT, liveCount) && this.ticks - this.leavePhaseTick >= spreadRounds);
    const deadline =
      this.leaveStartedAt +
      (this.leavePhase === 'leaving' ? this.options.leaveTimeoutMs / 2 : this.options.leaveTimeoutMs);
    if (!spread && nowMs < deadline) return;
    if (this.leavePhase === 'leaving') {
      this.leavePhase = 'left';
      this.leavePhaseTick = this.ticks;
      this.setOwnStatus('left', nowMs);
      this.leaveTarget = this.self.maxVersion;
    } else {
      this.leavePhase = 'done';
    }
  }

  // ---- arbitrary starting views (self-stabilization) ---------------------------------------------

  /**
   * Replaces what this node believes of others with `view`, however wrong: stale, contradictory,
   * phantom members, wrong statuses, future versions. The protocol must recover from any of it.
   */
  loadView(view: readonly ViewEntry[], nowMs: number): void {
    const verdicts: { owner: EndpointState; value: string }[] = [];
    for (const entry of view) {
      if (entry.id === this.id) continue;
      const old = this.byId.get(entry.id);
      if (old) this.unregister(old);
      const st = new EndpointState(entry.id, entry.address, entry.generation, entry.status);
      st.heartbeat = entry.heartbeat;
      st.maxVersion = entry.heartbeat;
      for (const [key, { value, version }] of Object.entries(entry.state ?? {})) {
        st.put(key, value, version);
        st.maxVersion = Math.max(st.maxVersion, version);
        if (key === VERDICTS_KEY) verdicts.push({ owner: st, value });
      }
      if (st.heartbeat === st.maxVersion && st.keys.size > 0) st.maxVersion++;
      this.register(st);
      st.lastNewsAt = nowMs;
      st.learnedAt = nowMs;
      st.heartbeatFed = st.heartbeat;
      st.relayFed = st.heartbeat;
      this.liveness.remove(st.id);
      if (entry.status === 'left') st.leftSince = nowMs;
      if (entry.down && entry.status !== 'left') {
        st.down = true;
        st.downSince = nowMs;
        st.heartbeatAtConviction = st.heartbeat;
      }
    }
    // Verdicts in the view are heard like any others (wrong ones included: they must do no lasting harm).
    for (const { owner, value } of verdicts)
      if (this.byRef.get(owner.ref) === owner) this.hearVerdicts(owner, value, nowMs);
  }

  // ---- judging peers -----------------------------------------------------------------------------

  private judge(st: EndpointState, nowMs: number): void {
    if (st.announced === 'left') {
      if (nowMs - st.leftSince >= this.options.tombstoneTtlMs)
        this.drop(st, 'left', nowMs + this.options.tombstoneTtlMs);
      return;
    }
    if (!st.down) {
      // Until gossip has shown the heartbeat advancing a few times, the arrival pattern is the
      // epidemic filling up, not the node's rhythm: judge by a plain timeout instead of by phi.
      // Either way, silence heard while this node itself stalled was its own (the local-pause guard).
      const silent =
        st.feeds >= PROBATION_FEEDS
          ? !this.liveness.isAvailable(st.id, nowMs)
          : nowMs - Math.max(st.learnedAt, st.lastNewsAt) >= this.firstContactMs() &&
            (this.liveness.mayConvict?.(nowMs) ?? true);
      if (silent) {
        this.convict(st, nowMs);
        this.publishVerdict(st, nowMs);
      } else if (this.heardVerdicts.size > 0) {
        this.adoptVerdict(st, nowMs);
      }
    } else if (nowMs - Math.max(st.downSince, st.lastNewsAt) >= this.options.downExpiryMs) {
      this.drop(st, 'down', nowMs + this.options.downExpiryMs);
    }
  }

  private convict(st: EndpointState, nowMs: number): void {
    const before = st.status;
    st.down = true;
    st.downSince = nowMs;
    st.heartbeatAtConviction = Math.max(st.heartbeat, st.heartbeatFed);
    this.emitTransition(st, before, nowMs);
  }

  // ---- verdicts (see verdicts.ts) ----------------------------------------------------------------

  private verdictTtlMs(): number {
    return VERDICT_TTL_FIRST_CONTACTS * this.firstContactMs();
  }

  /** This node's own detector convicted `st`: say so, with the newest heartbeat of it known here. */
  private publishVerdict(st: EndpointState, nowMs: number): void {
    this.ownVerdicts.delete(st.ref);
    this.ownVerdicts.set(st.ref, { heartbeat: st.heartbeatAtConviction, at: nowMs });
    if (this.ownVerdicts.size > MAX_VERDICTS) this.ownVerdicts.delete(this.ownVerdicts.keys().next().value!);
    this.ownVerdictsChanged = true;
  }

  /**
   * Once a round: withdraws verdicts on nodes no longer down here (heard from directly), gone, or
   * older than the TTL; renews one when newer relayed news came in and the detector still convicts
   * (so it is not outdated by that news); then publishes the list if it changed.
   */
  private maintainVerdicts(nowMs: number): void {
    if (this.ownVerdicts.size > 0) {
      const ttl = this.verdictTtlMs();
      for (const [ref, verdict] of [...this.ownVerdicts]) {
        const st = this.byRef.get(ref);
        if (!st || !st.down || st.announced === 'left' || nowMs - verdict.at >= ttl) {
          this.ownVerdicts.delete(ref);
          this.ownVerdictsChanged = true;
          continue;
        }
        const known = Math.max(st.heartbeat, st.heartbeatFed);
        if (known > verdict.heartbeat && st.feeds >= PROBATION_FEEDS && !this.liveness.isAvailable(st.id, nowMs)) {
          this.ownVerdicts.delete(ref);
          this.ownVerdicts.set(ref, { heartbeat: known, at: nowMs });
          this.ownVerdictsChanged = true;
        }
      }
    }
    if (!this.ownVerdictsChanged) return;
    this.ownVerdictsChanged = false;
    const list: Verdict[] = [];
    for (const [ref, { heartbeat }] of this.ownVerdicts) list.push({ ref, heartbeat });
    list.reverse();
    let value = encodeVerdicts(list);
    // A small MTU holds fewer: the newest are kept.
    while (list.length > 0 && !this.fits(VERDICTS_KEY, value)) {
      list.pop();
      value = encodeVerdicts(list);
    }
    if (value === (this.self.keys.get(VERDICTS_KEY)?.value ?? '')) return;
    try {
      this.write(VERDICTS_KEY, value, nowMs);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      this.listener.notice?.('warn', `verdicts not published: ${error.message}`);
    }
  }

  /** `owner` published `value` as its verdicts: keep those that know at least as much as this node, and act on them. */
  private hearVerdicts(owner: EndpointState, value: string, nowMs: number): void {
    let verdicts: Verdict[];
    try {
      verdicts = decodeVerdicts(value);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      this.stats.refusedVerdicts++;
      this.noteRefusal(nowMs, `refused the verdicts of node ${owner.id} from ${this.sender}: ${error.message}`);
      return;
    }
    const until = nowMs + this.verdictTtlMs();
    for (const verdict of verdicts) {
      const st = this.byRef.get(verdict.ref);
      if (!st || st === this.self || st === owner || st.announced === 'left') continue;
      if (verdict.heartbeat > nowMs - st.generation + this.options.maxGenerationSkewMs) {
        this.stats.refusedVerdicts++;
        this.noteRefusal(
          nowMs,
          `refused a verdict of node ${owner.id} on node ${st.id}: heartbeat ${verdict.heartbeat} is more than its owner can have stamped`,
        );
        continue;
      }
      if (verdict.heartbeat < Math.max(st.heartbeat, st.heartbeatFed)) continue; // heard from since: outdated
      const held = this.heardVerdicts.get(st.ref);
      this.heardVerdicts.set(st.ref, { heartbeat: Math.max(verdict.heartbeat, held?.heartbeat ?? 0), until });
      if (!st.down) this.adoptVerdict(st, nowMs);
    }
  }

  /**
   * Marks `st` down on a heard verdict, exactly as this node's own detector would, when the verdict
   * knew every heartbeat this node knows, `st` is out of probation, this node is not recovering from
   * its own stall, and its own detector has begun to suspect `st`. A verdict acts at most once.
   */
  private adoptVerdict(st: EndpointState, nowMs: number): void {
    const verdict = this.heardVerdicts.get(st.ref);
    if (!verdict) return;
    if (
      verdict.until <= nowMs ||
      verdict.heartbeat < Math.max(st.heartbeat, st.heartbeatFed) ||
      st.down ||
      st.announced === 'left'
    ) {
      this.heardVerdicts.delete(st.ref);
      return;
    }
    if (st.feeds < PROBATION_FEEDS || !(this.liveness.mayConvict?.(nowMs) ?? true)) return;
    if ((this.liveness.suspicion?.(st.id, nowMs) ?? 1) < VERDICT_SUSPICION) return;
    this.heardVerdicts.delete(st.ref);
    this.stats.adoptedVerdicts++;
    this.convict(st, nowMs);
  }

  /** What the header of a message says: the sender is alive (direct evidence) and what it knows of us. */
  private heardFrom(header: MessageHeader, nowMs: number): void {
    if (this.seedAttempts > 0 || this.seedBackoffMs !== this.options.seedRetryMinMs) {
      this.seedAttempts = 0;
      this.seedBackoffMs = this.options.seedRetryMinMs;
      this.nextSeedAttemptAt = -Infinity;
    }
    if (this.self.announced === 'joining' && header.senderRef !== this.self.ref) this.setOwnStatus('up', nowMs);
    const st = this.byRef.get(header.senderRef);
    if (!st) {
      // A dropped-as-down incarnation that talks to us is alive after all: let gossip bring it back.
      if (this.retired.get(header.senderRef)?.reason === 'down') this.retired.delete(header.senderRef);
      return;
    }
    if (st === this.self || st.announced === 'left') return;
    const heartbeat = header.senderHeartbeat;
    this.feed(st, heartbeat, nowMs);
    if (st.down && heartbeat > st.heartbeatAtConviction) {
      const before = st.status;
      st.down = false;
      this.emitTransition(st, before, nowMs);
    }
    if (header.receiverRef === this.self.ref && header.receiverVersion > (this.peerKnowsMe.get(st.id) ?? 0)) {
      this.peerKnowsMe.set(st.id, header.receiverVersion);
    }
  }

  // ---- building messages -------------------------------------------------------------------------

  private header(to: string): MessageHeader {
    const receiver = this.byAddress.get(to);
    return {
      senderRef: this.self.ref,
      senderHeartbeat: this.self.heartbeat,
      receiverRef: receiver?.ref ?? 0,
      receiverVersion: receiver?.maxVersion ?? 0,
    };
  }

  /** Digest of everything known; when it does not fit the MTU, a random part marked incomplete. */
  private buildSyn(to: string): GossipMessage {
    const header = this.header(to);
    const digests: DigestEntry[] = [];
    let size = 0;
    for (const st of this.byId.values()) {
      digests.push({ ref: st.ref, version: st.maxVersion });
      size += digestEntrySize(st.maxVersion);
    }
    const budget = this.options.mtuBytes - PREAMBLE_BYTES - headerSize(header) - varintSize(digests.length);
    if (size <= budget) return { type: 'syn', header, complete: true, digests };
    shuffle(this.random, digests);
    let used = 0;
    let count = 0;
    while (count < digests.length && used + digestEntrySize(digests[count].version) <= budget - 3)
      used += digestEntrySize(digests[count++].version);
    digests.length = count;
    return { type: 'syn', header, complete: false, digests };
  }

  /** Reply to a digest: deltas the peer lacks, and requests for what it has newer. */
  private buildAck(to: string, digests: DigestEntry[], complete: boolean, nowMs: number): GossipMessage {
    const requests: DigestEntry[] = [];
    const pushes: Candidate[] = [];
    const seen = complete ? new Set<number>() : undefined;
    for (const entry of digests) {
      seen?.add(entry.ref);
      const st = this.byRef.get(entry.ref);
      if (st && entry.version > st.maxVersion && !this.plausibleVersion(st.id, st.generation, entry.version, nowMs))
        continue;
      if (st === this.self && entry.version > this.self.maxVersion) {
        this.refute(
          this.self.generation,
          nowMs,
          `${to} claims version ${entry.version} of it, ahead of its own ${this.self.maxVersion}`,
        );
        continue;
      }
      if (st) {
        if (st.maxVersion > entry.version) pushes.push({ st, after: entry.version, count: 0, lag: 0 });
        else if (st.maxVersion < entry.version) requests.push({ ref: entry.ref, version: st.maxVersion });
      } else if (!this.isRetired(entry.ref, nowMs)) {
        requests.push({ ref: entry.ref, version: 0 });
      }
    }
    // The peer listed everything it knows: whatever is missing from its digest, it has never heard of.
    if (seen)
      for (const st of this.byId.values()) if (!seen.has(st.ref)) pushes.push({ st, after: 0, count: 0, lag: 0 });

    const header = this.header(to);
    let budget = this.options.mtuBytes - PREAMBLE_BYTES - headerSize(header) - 1;
    // Requests are small and make the exchange pull as well as push; they get at most half when both compete.
    const requestBudget = (pushes.length > 0 ? Math.floor(budget / 2) : budget) - 3;
    let requestBytes = 0;
    for (const r of requests) requestBytes += digestEntrySize(r.version);
    if (requestBytes > requestBudget) {
      shuffle(this.random, requests);
      requestBytes = 0;
      let count = 0;
      while (count < requests.length && requestBytes + digestEntrySize(requests[count].version) <= requestBudget)
        requestBytes += digestEntrySize(requests[count++].version);
      requests.length = count;
    }
    budget -= requestBytes + varintSize(requests.length);
    return { type: 'ack', header, requests, deltas: this.collectDeltas(pushes, budget) };
  }

  private buildAck2(to: string, requests: DigestEntry[], nowMs: number): GossipMessage & { type: 'ack2' } {
    const wanted: Candidate[] = [];
    for (const request of requests) {
      const st = this.byRef.get(request.ref);
      if (!st) continue;
      if (st === this.self && request.version > this.self.maxVersion) {
        if (!this.plausibleVersion(st.id, st.generation, request.version, nowMs)) continue;
        this.refute(
          this.self.generation,
          nowMs,
          `${to} claims version ${request.version} of it, ahead of its own ${this.self.maxVersion}`,
        );
        continue;
      }
      if (st.maxVersion > request.version) wanted.push({ st, after: request.version, count: 0, lag: 0 });
    }
    const header = this.header(to);
    const budget = this.options.mtuBytes - PREAMBLE_BYTES - headerSize(header) - 1;
    return { type: 'ack2', header, deltas: this.collectDeltas(wanted, budget) };
  }

  /**
   * Fills `budget` bytes with deltas. Each owner's entries go in version order and stop at the first
   * that does not fit (no gap); when not all fit, owners with the most outstanding entries go first
   * (scuttle-depth), then the most versions behind, ties broken at random.
   */
  private collectDeltas(candidates: Candidate[], budget: number): Delta[] {
    let total = 0;
    const prepared: { c: Candidate; items: Item[]; overhead: number; size: number }[] = [];
    for (const c of candidates) {
      const items = c.st.itemsAfter(c.after);
      if (items.length === 0) continue;
      c.count = items.length;
      c.lag = c.st.maxVersion - c.after;
      const overhead = deltaOverhead(c.after === 0 ? c.st.identity : undefined);
      let size = 0;
      for (const item of items) size += itemSize(item);
      prepared.push({ c, items, overhead, size });
      total += overhead + size;
    }
    if (total > budget) {
      shuffle(this.random, prepared);
      prepared.sort((a, b) => b.c.count - a.c.count || b.c.lag - a.c.lag);
    }
    const deltas: Delta[] = [];
    let remaining = budget;
    for (const p of prepared) {
      if (remaining < 16) break;
      if (p.overhead + p.size <= remaining) {
        deltas.push({ ref: p.c.st.ref, identity: p.c.after === 0 ? p.c.st.identity : undefined, items: p.items });
        remaining -= p.overhead + p.size;
        continue;
      }
      let used = p.overhead;
      let count = 0;
      while (count < p.items.length && used + itemSize(p.items[count]) <= remaining) used += itemSize(p.items[count++]);
      if (count === 0) continue;
      deltas.push({
        ref: p.c.st.ref,
        identity: p.c.after === 0 ? p.c.st.identity : undefined,
        items: p.items.slice(0, count),
      });
      remaining -= used;
    }
    return deltas;
  }

  private ping(out: Outgoing[], to: string): void {
    this.push(out, to, { type: 'ping', header: this.header(to) });
  }

  private push(out: Outgoing[], to: string, message: GossipMessage): void {
    const bytes = encodeMessage(message);
    this.stats.messagesSent++;
    this.stats.bytesSent += bytes.length;
    out.push({ to, bytes });
  }

  private maybeGossipToSeed(targets: Set<string>, live: number, unreachable: number, nowMs: number): void {
    if (this.seeds.length === 0) return;
    if (live === 0) {
      // Nobody is reachable: retry the seeds with a growing backoff, and say so.
      if (nowMs < this.nextSeedAttemptAt) return;
      const seed = this.seeds[randomInt(this.random, this.seeds.length)];
      targets.add(seed);
      this.seedAttempts++;
      this.nextSeedAttemptAt = nowMs + this.seedBackoffMs;
      if (this.seedAttempts > FLAT_SEED_ATTEMPTS) {
        this.listener.notice?.(
          'warn',
          `no seed has answered yet (${this.seedAttempts} attempts, seeds ${this.seeds.join(', ')}); trying ${seed}, next attempt in ${Math.round(this.seedBackoffMs)} ms`,
        );
      }
      if (this.seedAttempts >= FLAT_SEED_ATTEMPTS)
        this.seedBackoffMs = Math.min(this.seedBackoffMs * 2, this.options.seedRetryMaxMs);
      return;
    }
    let toSeed = false;
    for (const seed of this.seeds) if (targets.has(seed)) toSeed = true;
    if (toSeed && live >= this.seeds.length) return;
    if (this.random.next() < this.seeds.length / (live + unreachable))
      targets.add(this.seeds[randomInt(this.random, this.seeds.length)]);
  }

  // ---- applying what arrives ---------------------------------------------------------------------

  /** `senderRef`: the incarnation that sent the message; its own delta is first-hand news of it. */
  private applyDelta(delta: Delta, senderRef: number, nowMs: number): void {
    const last = delta.items.length > 0 ? delta.items[delta.items.length - 1].version : 0;
    if (delta.identity) {
      const { id, address, generation } = delta.identity;
      // Checked first, for this node's own identity too: refuting an absurd generation would mean
      // taking one above it, which every peer would refuse in turn (the node would vanish).
      if (generation > nowMs + this.options.maxGenerationSkewMs) {
        this.stats.refusedGenerations++;
        this.noteRefusal(
          nowMs,
          `refused a claim from ${this.sender} about node ${id}: generation ${generation} is more than gossip.maxGenerationSkewMs (${this.options.maxGenerationSkewMs} ms) in the future`,
        );
        return;
      }
      if (!this.plausibleVersion(id, generation, last, nowMs)) return;
      if (id === this.id) {
        if (generation > this.self.generation)
          this.refute(
            generation,
            nowMs,
            `a peer holds generation ${generation} of it, newer than its own ${this.self.generation}`,
          );
        else if (generation === this.self.generation && last > this.self.maxVersion)
          this.refute(
            generation,
            nowMs,
            `a peer holds version ${last} of it, ahead of its own ${this.self.maxVersion}`,
          );
        return;
      }
      if (delta.items.length === 0 || this.isRetired(delta.ref, nowMs)) return;
      const existing = this.byId.get(id);
      if (existing && existing.generation > generation) return; // an older run: outdated news
      if (!existing && this.byId.size >= this.options.maxMembers && !this.makeRoom(nowMs)) {
        this.stats.refusedMembers++;
        this.noteRefusal(
          nowMs,
          `refused node ${id} from ${this.sender}: ${this.byId.size} nodes are known already, none of them departed or down (gossip.maxMembers)`,
        );
        return;
      }
      if (!this.stateFits(id, existing?.generation === generation ? existing : undefined, delta.items, nowMs)) return;
      const firstHand = delta.ref === senderRef;
      if (!existing) this.create(id, address, generation, delta.items, firstHand, nowMs);
      else if (existing.generation === generation) this.applyItems(existing, delta.items, nowMs);
      else if (existing.generation < generation)
        this.replace(existing, address, generation, delta.items, firstHand, nowMs);
      return;
    }
    const st = this.byRef.get(delta.ref);
    if (!st) return; // an incarnation we do not know: only a delta with its identity may introduce it
    if (!this.plausibleVersion(st.id, st.generation, last, nowMs)) return;
    if (st === this.self) {
      if (last > this.self.maxVersion)
        this.refute(
          this.self.generation,
          nowMs,
          `a peer sent version ${last} of it, ahead of its own ${this.self.maxVersion}`,
        );
      return;
    }
    if (!this.stateFits(st.id, st, delta.items, nowMs)) return;
    this.applyItems(st, delta.items, nowMs);
  }

  private create(
    id: string,
    address: string,
    generation: number,
    items: Item[],
    firstHand: boolean,
    nowMs: number,
  ): void {
    const st = new EndpointState(id, address, generation, 'joining');
    if (!firstHand) this.awaitDirectContact(st, nowMs);
    this.learn(st, items, nowMs);
    this.register(st);
    this.emit('joined', id, nowMs);
    this.applyItems(st, items, nowMs);
  }

  /**
   * An incarnation known only through third parties stays `down` until it is heard from directly
   * (Cassandra marks a new endpoint alive only on its echo): relayed heartbeats say it runs, not that
   * this node can reach it. It is pinged at once (see receive), then every round (see tick); any
   * message of its own clears it.
   */
  private awaitDirectContact(st: EndpointState, downSince: number): void {
    st.down = true;
    st.downSince = downSince;
    st.heartbeatAtConviction = 0;
    this.unheard.push(st);
  }

  /**
   * The heartbeat a node is first learned with may be old news (relayed for rounds), so it does not
   * feed the detector: the first newer one does. A node never heard of again is convicted after
   * `firstContactMs` (see judge), which is how phantoms die.
   */
  private learn(st: EndpointState, items: Item[], nowMs: number): void {
    st.learnedAt = nowMs;
    for (const item of items) if (item.key === undefined) st.heartbeatFed = st.relayFed = item.version;
  }

  /** Long enough for a heartbeat to cross the cluster by gossip (log3 N + ln ln N rounds), plus 5 rounds. */
  private firstContactMs(): number {
    const n = Math.max(3, this.byId.size);
    return this.options.intervalMs * (Math.ceil(Math.log(n) / Math.log(3) + Math.log(Math.log(n))) + 5);
  }

  /**
   * Feeds the detector a newer heartbeat. Relayed heartbeats are judged against the relayed ones
   * only: a direct message carries the sender's current heartbeat, newer than any relay can have for
   * rounds, and measured against it the relayed stream would look silent for as long as the news
   * takes to spread (~6 rounds at N = 1000). That gap then made the node a suspect, its probe's
   * pong started the gap over, and some pairs lived on pongs every 5 s, their windows full of odd
   * intervals, until one was lost and the peer convicted (found in the simulator, 10% loss).
   */
  private feed(st: EndpointState, heartbeat: number, nowMs: number, relayed = false): void {
    if (st.announced === 'left' || heartbeat <= (relayed ? st.relayFed : st.heartbeatFed)) return;
    if (relayed) st.relayFed = heartbeat;
    this.liveness.heartbeat(st.id, st.generation, nowMs);
    st.heartbeatFed = Math.max(st.heartbeatFed, heartbeat);
    st.feeds++;
    st.probeRounds = 0;
    st.lastNewsAt = nowMs;
  }

  /** A higher generation: the node restarted (or came back after leaving). Its old state goes whole. */
  private replace(
    old: EndpointState,
    address: string,
    generation: number,
    items: Item[],
    firstHand: boolean,
    nowMs: number,
  ): void {
    const wasLeft = old.announced === 'left';
    const before = old.status;
    this.unregister(old);
    this.retire(old.ref, 'replaced', nowMs + this.options.tombstoneTtlMs);
    const st = new EndpointState(old.id, address, generation, 'joining');
    // A new run nobody here has heard from yet is not up on others' word, whatever the old run was.
    if (!firstHand) this.awaitDirectContact(st, old.down && !wasLeft ? old.downSince : nowMs);
    this.liveness.remove(st.id); // the old run's history says nothing about the new one
    this.learn(st, items, nowMs);
    this.register(st);
    this.emit(wasLeft ? 'joined' : 'restarted', st.id, nowMs);
    this.applyItems(st, items, nowMs, before);
  }

  private applyItems(st: EndpointState, items: Item[], nowMs: number, before: MemberStatus = st.status): void {
    const heartbeatBefore = st.heartbeat;
    const announcedBefore = st.announced;
    let verdicts: string | undefined;
    for (const item of items) {
      if (item.version <= st.maxVersion) continue; // already known: duplicates and reorderings are harmless
      if (item.key === undefined) {
        st.heartbeat = item.version;
        st.announced = item.status;
      } else {
        st.put(item.key, item.value, item.version);
        if (item.key === VERDICTS_KEY) verdicts = item.value;
        else this.listener.change?.({ nodeId: st.id, key: item.key, value: item.value, version: item.version }, nowMs);
      }
      st.maxVersion = item.version;
    }
    if (st.heartbeat > heartbeatBefore) this.feed(st, st.heartbeat, nowMs, true);
    if (st.announced === 'left' && announcedBefore !== 'left') {
      st.leftSince = nowMs;
      st.down = false;
      this.liveness.remove(st.id);
      this.peerKnowsMe.delete(st.id);
    }
    this.emitTransition(st, before, nowMs);
    // Judged once the whole message is applied, against the freshest news it brought of the convicted.
    if (verdicts !== undefined && st.announced !== 'left') this.pendingVerdicts.push({ owner: st, value: verdicts });
  }

  /**
   * Whether `version` of incarnation (id, generation) can have been stamped by its owner: at most one
   * version per ms since it started (its `set()` keeps within half of the slack), plus the clock skew
   * tolerated for generations. Scuttlebutt takes an owner's versions from anyone and never goes back,
   * so an absurd version relayed by a faulty or hostile member would make every receiver skip the
   * owner's real news until the owner refuted it with a new generation (and a claim near 2^53 would
   * leave no version above it). Such claims are refused whole, counted and logged rarely; a plausible
   * lie is still repaired by the owner's refutation.
   */
  private plausibleVersion(id: string, generation: number, version: number, nowMs: number): boolean {
    if (version <= nowMs - generation + this.options.maxGenerationSkewMs) return true;
    this.stats.refusedVersions++;
    this.noteRefusal(
      nowMs,
      `refused a claim from ${this.sender} about node ${id}: version ${version} is more than its owner can have stamped since its generation ${generation}`,
    );
    return false;
  }

  /**
   * Whether `items` keep the state of node `id` (`st`, or a new incarnation when undefined) within
   * twice gossip.maxStateBytes. Twice, because a delta the MTU cut short leaves a receiver with new
   * values for some keys and old ones for the rest: each key holds its old or its new value, so the mix
   * is at most the owner's old state plus its new one, each within the bound its own set() enforces.
   * A delta is refused whole: applying part of it would leave a gap in the owner's versions. So only a
   * faulty or hostile member's claim is lost, and the receiver keeps asking for it at no cost beyond
   * the bounded message.
   */
  private stateFits(id: string, st: EndpointState | undefined, items: readonly Item[], nowMs: number): boolean {
    const bytes = stateBytesAfter(st, items);
    const limit = 2 * this.options.maxStateBytes;
    if (bytes <= limit) return true;
    this.stats.refusedState++;
    this.noteRefusal(
      nowMs,
      `refused a claim from ${this.sender} about node ${id}: its state would take ${bytes} bytes, more than twice gossip.maxStateBytes (${this.options.maxStateBytes})`,
    );
    return false;
  }

  /**
   * At gossip.maxMembers, forgets the departed or long-silent down incarnation heard of least recently (as its
   * tombstone or down expiry would, only sooner), so a new node is not refused for the dead: with node
   * ids that change on every deployment, departed ones would otherwise fill the table for a day.
   * Refuses (false) when every known node is alive: then the table is full of the living.
   */
  private makeRoom(nowMs: number): boolean {
    // A down node still in the news (relayed heartbeats: alive beyond a partition) or only just learned
    // is not dead yet: only silence longer than the first-contact timeout counts.
    const firstContactMs = this.firstContactMs();
    let oldest: EndpointState | undefined;
    let oldestSince = Infinity;
    for (const st of this.byId.values()) {
      if (st === this.self || !(st.announced === 'left' || st.down)) continue;
      const since = st.announced === 'left' ? st.leftSince : Math.max(st.downSince, st.lastNewsAt);
      if (st.announced !== 'left' && nowMs - since < firstContactMs) continue;
      if (since < oldestSince) {
        oldest = st;
        oldestSince = since;
      }
    }
    if (!oldest) return false;
    const left = oldest.announced === 'left';
    this.drop(oldest, left ? 'left' : 'down', nowMs + (left ? this.options.tombstoneTtlMs : this.options.downExpiryMs));
    return true;
  }

  /** The first refusal is logged, then at most one line per REFUSAL_LOG_EVERY_MS, with the counts. */
  private noteRefusal(nowMs: number, message: string): void {
    if (nowMs - this.lastRefusalLogAt < REFUSAL_LOG_EVERY_MS) return;
    this.lastRefusalLogAt = nowMs;
    const { refusedGenerations, refusedVersions, refusedVerdicts, refusedOversized, refusedState, refusedMembers } =
      this.stats;
    this.listener.notice?.(
      'warn',
      `${message} (refused so far: ${refusedGenerations} generation(s), ${refusedVersions} version(s), ${refusedVerdicts} verdict(s), ${refusedOversized} oversized message(s), ${refusedState} state(s) over gossip.maxStateBytes, ${refusedMembers} node(s) over gossip.maxMembers; further refusals are counted and logged at most once a minute)`,
    );
  }

  /**
   * A peer holds a newer state of this node than this node has (corruption, or a future generation
   * from a broken clock): take a generation above it and republish everything, so the owner wins.
   */
  private refute(claimedGeneration: number, nowMs: number, reason: string): void {
    const old = this.self;
    const generation = Math.max(nowMs, claimedGeneration + 1, old.generation + 1);
    const st = new EndpointState(old.id, old.address, generation, old.announced);
    const keys = [...old.keys].sort((a, b) => a[1].version - b[1].version);
    for (const [key, { value }] of keys) st.put(key, value, ++st.maxVersion);
    st.heartbeat = ++st.maxVersion;
    this.unregister(old);
    this.retire(old.ref, 'replaced', nowMs + this.options.tombstoneTtlMs);
    this.self = st;
    this.register(st);
    this.peerKnowsMe.clear();
    if (this.leavePhase === 'leaving' || this.leavePhase === 'left') this.leaveTarget = st.maxVersion;
    this.stats.refutations++;
    this.listener.notice?.('warn', `${reason}; this node takes generation ${generation} so that its own state wins`);
  }

  private setOwnStatus(status: AnnouncedStatus, nowMs: number): void {
    const before = this.self.status;
    this.self.announced = status;
    this.self.heartbeat = ++this.self.maxVersion;
    this.emitTransition(this.self, before, nowMs);
  }

  private emitTransition(st: EndpointState, before: MemberStatus, nowMs: number): void {
    const after = st.status;
    if (after === before || after === 'joining') return;
    this.emit(after, st.id, nowMs);
  }

  private emit(type: MembershipEventType, nodeId: string, nowMs: number): void {
    this.listener.event?.({ type, nodeId }, nowMs);
  }

  // ---- bookkeeping -------------------------------------------------------------------------------

  private register(st: EndpointState): void {
    this.byId.set(st.id, st);
    this.byRef.set(st.ref, st);
    this.byAddress.set(st.address, st);
  }

  private unregister(st: EndpointState): void {
    if (this.byId.get(st.id) === st) this.byId.delete(st.id);
    if (this.byRef.get(st.ref) === st) this.byRef.delete(st.ref);
    if (this.byAddress.get(st.address) === st) this.byAddress.delete(st.address);
  }

  /** Forgets an incarnation for good (left long ago, or down too long) and refuses it for a while. */
  private drop(st: EndpointState, reason: RetiredReason, until: number): void {
    this.unregister(st);
    this.liveness.remove(st.id);
    this.peerKnowsMe.delete(st.id);
    this.retire(st.ref, reason, until);
  }

  private retire(ref: number, reason: RetiredReason, until: number): void {
    this.retired.delete(ref);
    this.retired.set(ref, { until, reason });
    if (this.retired.size > MAX_RETIRED) this.retired.delete(this.retired.keys().next().value!);
  }

  private isRetired(ref: number, nowMs: number): boolean {
    const entry = this.retired.get(ref);
    if (!entry) return false;
    if (entry.until > nowMs) return true;
    this.retired.delete(ref);
    return false;
  }

  private purgeRetired(nowMs: number): void {
    for (const [ref, entry] of this.retired) if (entry.until <= nowMs) this.retired.delete(ref);
    for (const [ref, entry] of this.heardVerdicts)
      if (entry.until <= nowMs || !this.byRef.has(ref)) this.heardVerdicts.delete(ref);
  }
}

import type { Random } from '../common/random.js';
import type { GossipOptions } from '../options/elastica-options.js';
import { Admission } from './admission.js';
import { EndpointState } from './endpoint-state.js';
import { emptyGossipStats, type GossipStats } from './gossip-stats.js';
import type { GossipListener, LivenessOracle, Member, MemberStatus, ViewEntry } from './gossip.types.js';
import { LEAVE_FANOUT, LeaveProtocol, type LeavePhase } from './leave-protocol.js';
import { MembershipEvents } from './membership-events.js';
import { MembershipTable, type ForgetReason } from './membership-table.js';
import { MessagePacker } from './message-packer.js';
import { OwnIncarnation } from './own-incarnation.js';
import { choosePeers } from './peer-choice.js';
import { PeerJudge } from './peer-judge.js';
import { Reconciliation } from './reconciliation.js';
import { SeedContact } from './seed-contact.js';
import { FirstStart, type BootstrapOptions } from './first-start.js';
import { endpointFromView } from './starting-view.js';
import { VerdictLedger } from './verdict-ledger.js';
import { VERDICTS_KEY } from './verdicts.js';
import { FORGOTTEN_KEY } from './forgotten.js';
import { ForgetProtocol } from './forget-protocol.js';
import { Outbox, type Outgoing } from './outbox.js';
import type { AnnouncedStatus, Delta, Identity, Item, MessageHeader } from './wire/messages.js';

export interface GossipNodeConfig {
  id: string;
  /** This node's advertised "host:port". */
  address: string;
  /** Start time of this run (ms since the epoch); higher on every restart. */
  generation: number;
  /** "host:port" of the seeds; this node's own address may be among them. */
  seeds: readonly string[];
  /** Seeds from discovery: they come through `replaceSeeds`, and this policy says who founds (docs/ARCHITECTURE.md, "A safe first start"). */
  bootstrap?: BootstrapOptions;
  /** Static seeds still being looked up (names): not "none but itself" before the first answer. */
  seedsPending?: boolean;
  options: GossipOptions;
  random: Random;
  liveness: LivenessOracle;
  listener?: GossipListener;
}

/** A message to send, already encoded: the channel carries it opaquely. */
export type { Outgoing } from './outbox.js';

export type { LeavePhase } from './leave-protocol.js';

export type { GossipStats } from './gossip-stats.js';

/** The pure Scuttlebutt gossip core of one node: see docs/ARCHITECTURE.md, Gossip. */
export class GossipNode {
  readonly id: string;
  readonly address: string;
  readonly stats: GossipStats = emptyGossipStats();

  private readonly table = new MembershipTable();
  private readonly seeds: SeedContact;
  private readonly options: GossipOptions;
  private readonly random: Random;
  private readonly liveness: LivenessOracle;
  private readonly listener: GossipListener;
  private readonly admission: Admission;
  private readonly departure: LeaveProtocol;
  private readonly outbox: Outbox;
  private readonly verdicts: VerdictLedger;
  private readonly own: OwnIncarnation;
  private readonly reconciliation: Reconciliation;
  private readonly events: MembershipEvents;
  private readonly judge: PeerJudge;
  private readonly firstStart: FirstStart | undefined;
  private readonly forgetting: ForgetProtocol;
  /** Incarnations just learned through third parties, pinged before this message's replies go out. */
  private readonly unheard: EndpointState[] = [];
  private ticks = 0;
  private stopped = false;

  constructor(config: GossipNodeConfig) {
    this.id = config.id;
    this.address = config.address;
    this.options = config.options;
    this.random = config.random;
    this.liveness = config.liveness;
    this.listener = config.listener ?? {};
    this.events = new MembershipEvents(this.listener);
    this.admission = new Admission(this.options, this.stats, this.listener);
    this.departure = new LeaveProtocol(this.options);
    this.own = new OwnIncarnation(config, this.options, this.table, this.departure, this.stats, this.listener);
    this.verdicts = new VerdictLedger(
      this.options,
      this.table,
      this.liveness,
      this.admission,
      this.stats,
      (endpoint, nowMs) => this.judge.convict(endpoint, nowMs),
    );
    this.reconciliation = new Reconciliation(this.options, this.table, this.admission, this.own, (nowMs) =>
      this.makeRoom(nowMs),
    );
    const packer = new MessagePacker(this.options, this.random);
    this.outbox = new Outbox(this.table, () => this.self, packer, this.reconciliation, this.stats);
    this.judge = new PeerJudge(
      this.options,
      this.liveness,
      this.table,
      this.events,
      this.verdicts,
      (endpoint, reason, until) => this.drop(endpoint, reason, until),
    );
    this.forgetting = new ForgetProtocol(
      this.options,
      this.table,
      this.own,
      this.stats,
      this.listener,
      this.events,
      (endpoint, until) => this.drop(endpoint, 'forgotten', until),
    );
    const pending = config.seedsPending === true || config.bootstrap !== undefined;
    this.seeds = new SeedContact(config.seeds, config.address, this.options, this.random, this.listener, pending);
    this.firstStart = config.bootstrap ? new FirstStart(config.bootstrap, this.listener) : undefined;
  }

  /** A seed address a dial found to be this node: never dialled again, even if discovered again (the others still are). */
  forgetSeed(address: string): void {
    this.seeds.forget(address);
  }

  /** The seeds' addresses as seed discovery last found them (names resolved by the shell). */
  replaceSeeds(addresses: readonly string[]): void {
    this.seeds.replace(addresses);
  }

  /** Seed retries while nobody was live: the shell looks the seeds up again at each. */
  get seedRetries(): number {
    return this.seeds.retries;
  }

  private get self(): EndpointState {
    return this.own.current;
  }

  get generation(): number {
    return this.self.generation;
  }

  get heartbeat(): number {
    return this.self.heartbeat;
  }

  get phase(): LeavePhase {
    return this.departure.phase;
  }

  get isStopped(): boolean {
    return this.stopped || this.departure.phase === 'done';
  }

  /** Known incarnations, this node included. */
  get size(): number {
    return this.table.size;
  }

  /** Publishes `key` = `value` as this node's state, under a new version. */
  set(key: string, value: string, nowMs: number): void {
    if (typeof key !== 'string' || key.length === 0)
      throw new TypeError(`gossip state key must be a non-empty string, got ${JSON.stringify(key)}`);
    if (key === VERDICTS_KEY || key === FORGOTTEN_KEY)
      throw new TypeError(`gossip state key "${key}" is the core's own`);
    if (typeof value !== 'string')
      throw new TypeError(`gossip state value of "${key}" must be a string, got ${typeof value}`);
    this.own.write(key, value, nowMs);
  }

  get(nodeId: string, key: string): string | undefined {
    return this.table.get(nodeId)?.keys.get(key)?.value;
  }

  /** The version of `key` of `nodeId` known here (0 when absent). */
  versionOf(nodeId: string, key: string): number {
    return this.table.get(nodeId)?.keys.get(key)?.version ?? 0;
  }

  /** What this node holds of `nodeId`'s current incarnation, with versions (for inspection and tests). */
  snapshot(
    nodeId: string,
  ): { generation: number; heartbeat: number; maxVersion: number; versions: Record<string, number> } | undefined {
    return this.table.get(nodeId)?.snapshot();
  }

  members(): Member[] {
    return [...this.table.endpoints()].map((endpoint) => endpoint.toMember());
  }

  member(nodeId: string): Member | undefined {
    return this.table.get(nodeId)?.toMember();
  }

  /** Status as seen here, without building the whole member (cheap, for the simulator). */
  statusOf(nodeId: string): MemberStatus | undefined {
    return this.table.get(nodeId)?.status;
  }

  generationOf(nodeId: string): number | undefined {
    return this.table.get(nodeId)?.generation;
  }

  nodeIds(): IterableIterator<string> {
    return this.table.nodeIds();
  }

  /** One gossip round: bump the heartbeat, judge peers, and start an exchange with the chosen peers. */
  tick(nowMs: number): Outgoing[] {
    if (this.isStopped) return [];
    this.ticks++;
    this.own.beat();
    if (this.self.announced === 'joining') this.considerJoining(nowMs);

    const judged = this.judge.round(this.self, nowMs);
    this.publishVerdicts(nowMs);

    const fanout = this.departure.announcing ? LEAVE_FANOUT : 1;
    const targets = choosePeers(judged.live, judged.unreachable, fanout, this.seeds, this.random, nowMs);

    const out: Outgoing[] = [];
    for (const to of targets) this.outbox.syn(out, to);
    for (const to of this.judge.pings(judged, targets)) this.outbox.ping(out, to);

    if (this.departure.advance(nowMs, this.ticks, judged.live.length, this.table.endpoints(), this.self)) {
      this.setOwnStatus('left', nowMs);
      this.departure.awaitConfirmation(this.self.maxVersion);
    }
    if (this.ticks % 64 === 0) this.purge(nowMs);
    return out;
  }

  /** Handles one incoming message; returns the replies. Malformed input is counted and dropped. */
  receive(from: string, bytes: Uint8Array, nowMs: number): Outgoing[] {
    if (this.isStopped) return [];
    this.stats.messagesReceived++;
    this.stats.bytesReceived += bytes.length;
    const message = this.admission.message(from, bytes, nowMs);
    if (!message) return [];
    this.heardFrom(message.header, nowMs);
    const out: Outgoing[] = [];
    switch (message.type) {
      case 'syn':
        this.outbox.ack(out, from, message.digests, message.complete, nowMs);
        break;
      case 'ack': {
        for (const delta of message.deltas) this.applyDelta(delta, message.header.senderRef, nowMs);
        this.outbox.ack2(out, from, message.requests, nowMs);
        break;
      }
      case 'ack2':
        for (const delta of message.deltas) this.applyDelta(delta, message.header.senderRef, nowMs);
        break;
      case 'ping':
        this.outbox.pong(out, from);
        break;
      case 'pong':
        break;
    }
    this.verdicts.hearQueued(this.self, nowMs);
    if (
      this.firstStart &&
      this.self.announced === 'joining' &&
      FirstStart.clusterExists(this.self, this.table.endpoints())
    )
      this.setOwnStatus('up', nowMs); // a cluster exists and answered: join it
    // Asked at once rather than at the next round: only its own answer makes it `up` here, and the
    // ring waits for every node to be up everywhere (a join is agreed one round sooner).
    for (const endpoint of this.unheard.splice(0))
      if ((endpoint.down || endpoint.unconfirmed) && this.table.holds(endpoint))
        this.outbox.ping(out, endpoint.address);
    return out;
  }

  /**
   * Removes a node this node judges down, now, as `nodetool removenode` or `serf force-leave` do: its
   * incarnation is dropped here and named under FORGOTTEN_KEY, so that every node that hears of it drops
   * it too (docs/ARCHITECTURE.md, Gossip › Forgetting a node). A restart of it (a new generation) joins
   * as any new node; the forgotten incarnation itself, if it was alive after all, is let back in once
   * it talks to a node directly, and takes a new generation when it hears it was forgotten.
   * Throws UnknownNodeError or NodeNotDownError.
   */
  forget(nodeId: string, nowMs: number): void {
    this.forgetting.forget(nodeId, nowMs);
  }

  /** Stops for good without a word to anyone (a crash, or a shutdown without `leave`). */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Starts a graceful departure: `leaving`, then `left` once peers have the news, then `done` (see
   * docs/ARCHITECTURE.md, Gossip › Lifecycle). Returns the first messages.
   */
  leave(nowMs: number): Outgoing[] {
    if (this.departure.phase !== 'none' || this.stopped) return [];
    this.departure.begin(nowMs, this.ticks);
    this.setOwnStatus('leaving', nowMs);
    this.departure.awaitConfirmation(this.self.maxVersion);
    const out: Outgoing[] = [];
    for (const to of this.departure.firstToTell(this.table.endpoints(), this.self, this.random))
      this.outbox.syn(out, to);
    return out;
  }

  /**
   * Replaces what this node believes of others with `view`, however wrong: stale, contradictory,
   * phantom members, wrong statuses, future versions. The protocol must recover from any of it.
   */
  loadView(view: readonly ViewEntry[], nowMs: number): void {
    const published: { owner: EndpointState; value: string }[] = [];
    for (const entry of view) {
      if (entry.id === this.id) continue;
      const old = this.table.get(entry.id);
      if (old) this.table.unregister(old);
      const { endpoint, verdicts } = endpointFromView(entry, nowMs);
      this.table.register(endpoint);
      this.liveness.remove(endpoint.id);
      if (verdicts !== undefined) published.push({ owner: endpoint, value: verdicts });
    }
    // Verdicts in the view are heard like any others (wrong ones included: they must do no lasting harm).
    this.verdicts.hearAll(published, this.self, nowMs);
  }

  /** A joining node's round: up alone with static seeds and none but itself; or as the bootstrap policy says. */
  private considerJoining(nowMs: number): void {
    const up = this.firstStart ? this.firstStart.decide(this.seeds, this.self, this.table, nowMs) : this.seeds.none;
    if (up) this.setOwnStatus('up', nowMs);
  }

  /** Publishes this node's verdicts under VERDICTS_KEY when they changed. */
  private publishVerdicts(nowMs: number): void {
    const value = this.verdicts.maintain(nowMs, (verdicts) => this.own.fits(VERDICTS_KEY, verdicts));
    if (value !== undefined) this.own.publishVerdicts(value, nowMs);
  }

  /** What the header of a message says: the sender is alive (direct evidence) and what it knows of us. */
  private heardFrom(header: MessageHeader, nowMs: number): void {
    this.seeds.answered();
    // Static seeds: whoever answers, this node is in their cluster. Discovered ones: see considerJoining.
    if (!this.firstStart && this.self.announced === 'joining' && header.senderRef !== this.self.ref)
      this.setOwnStatus('up', nowMs);
    const endpoint = this.table.byRef(header.senderRef);
    if (!endpoint) {
      // A dropped-as-down incarnation that talks to us is alive after all: let gossip bring it back.
      this.table.readmit(header.senderRef);
      return;
    }
    if (endpoint === this.self || endpoint.announced === 'left') return;
    this.judge.heardFrom(endpoint, header.senderHeartbeat, nowMs);
    if (header.receiverRef === this.self.ref) this.departure.confirmedBy(endpoint.id, header.receiverVersion);
  }

  private applyDelta(delta: Delta, senderRef: number, nowMs: number): void {
    const admitted = this.reconciliation.admit(delta, senderRef, nowMs);
    if (!admitted) return;
    if ('endpoint' in admitted) this.applyItems(admitted.endpoint, delta.items, nowMs);
    else this.learnIncarnation(admitted.identity, admitted.replaces, delta.items, admitted.firstHand, nowMs);
  }

  /** A node first heard of, or a new run of one (restarted, or back after leaving): its old state goes whole. */
  private learnIncarnation(
    { id, address, generation }: Identity,
    old: EndpointState | undefined,
    items: Item[],
    firstHand: boolean,
    nowMs: number,
  ): void {
    const wasLeft = old?.announced === 'left';
    const before = old?.status;
    if (old) this.table.forget(old, 'replaced', nowMs + this.options.tombstoneTtlMs);
    const endpoint = new EndpointState(id, address, generation, 'joining');
    // A run nobody here has heard from is not up on others' word, but a restart of a node live here stays
    // live until its own answer is overdue (PeerJudge): `down` at once made the ring drop it for nothing.
    // Runs none of which answered (a crash loop) keep the first one's deadline.
    if (!firstHand) {
      if (old && !old.down && !wasLeft) endpoint.unconfirmedSince = old.unconfirmedSince ?? nowMs;
      else endpoint.awaitDirectContact(old?.down && !wasLeft ? old.downSince : nowMs);
      this.unheard.push(endpoint);
    }
    if (old) this.liveness.remove(id); // the old run's history says nothing about the new one
    endpoint.learn(items, nowMs);
    this.table.register(endpoint);
    this.events.emit(old && !wasLeft ? 'restarted' : 'joined', id, nowMs);
    this.applyItems(endpoint, items, nowMs, before);
  }

  private applyItems(
    endpoint: EndpointState,
    items: Item[],
    nowMs: number,
    before: MemberStatus = endpoint.status,
  ): void {
    const heartbeatBefore = endpoint.heartbeat;
    const announcedBefore = endpoint.announced;
    let forgotten: string | undefined;
    const verdicts = endpoint.merge(items, (key, value, version) => {
      if (key === FORGOTTEN_KEY) forgotten = value;
      else this.listener.change?.({ nodeId: endpoint.id, key, value, version }, nowMs);
    });
    if (endpoint.heartbeat > heartbeatBefore) this.judge.feed(endpoint, endpoint.heartbeat, nowMs, true);
    if (endpoint.announced === 'left' && announcedBefore !== 'left') {
      endpoint.leftSince = nowMs;
      endpoint.down = false;
      this.liveness.remove(endpoint.id);
      this.departure.forgetPeer(endpoint.id);
    }
    this.events.transition(endpoint, before, nowMs);
    // Judged once the whole message is applied, against the freshest news it brought of the convicted.
    if (verdicts !== undefined && endpoint.announced !== 'left') this.verdicts.queue(endpoint, verdicts);
    if (forgotten !== undefined) this.forgetting.hear(endpoint, forgotten, nowMs);
  }

  /**
   * At gossip.maxMembers, forgets a departed or long-silent down node sooner than its expiry would: with
   * node ids that change on every deployment, the dead would otherwise keep new nodes out for a day.
   */
  private makeRoom(nowMs: number): boolean {
    const oldest = this.table.evictable(this.self, nowMs, this.judge.firstContactMs());
    if (!oldest) return false;
    const left = oldest.announced === 'left';
    this.drop(oldest, left ? 'left' : 'down', nowMs + (left ? this.options.tombstoneTtlMs : this.options.downExpiryMs));
    return true;
  }

  private setOwnStatus(status: AnnouncedStatus, nowMs: number): void {
    const before = this.own.announce(status);
    this.events.transition(this.self, before, nowMs);
  }

  /** Forgets an incarnation for good (left long ago, down too long, or to make room) and refuses it for a while. */
  private drop(endpoint: EndpointState, reason: ForgetReason, until: number): void {
    this.table.forget(endpoint, reason, until);
    this.liveness.remove(endpoint.id);
    this.departure.forgetPeer(endpoint.id);
  }

  private purge(nowMs: number): void {
    this.table.purgeForgotten(nowMs);
    this.verdicts.purge(nowMs);
  }
}

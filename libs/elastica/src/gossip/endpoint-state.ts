import { APP_VERSION_KEY, VERSION_KEY } from '../elastica.constants.js';
import type { Member, MemberStatus } from './gossip.types.js';
import { FORGOTTEN_KEY } from './forgotten.js';
import { VERDICTS_KEY } from './verdicts.js';
import { stringSize } from './wire/bytes.js';
import { incarnationRef } from './wire/incarnation.js';
import type { AnnouncedStatus, Identity, Item } from './wire/messages.js';

/** Heartbeats seen advancing before phi, rather than a plain timeout, judges a newly learned incarnation. */
const PROBATION_FEEDS = 30;

export interface VersionedValue {
  value: string;
  version: number;
}

/** Bytes one key and its value take on the wire: what `gossip.maxStateBytes` counts. */
export function entryBytes(key: string, value: string): number {
  return stringSize(key) + stringSize(value);
}

/**
 * What one node knows of one incarnation of a node: the versioned entries the owner published (its
 * heartbeat, which carries its announced status, and its keys) plus this node's own judgments of it.
 * Invariant: it holds every entry of the owner up to `maxVersion` (or a newer overwrite of it).
 */
export class EndpointState {
  readonly ref: number;
  heartbeat = 0;
  maxVersion = 0;
  /** Read freely; write through put(), which keeps stateBytes true. */
  readonly keys = new Map<string, VersionedValue>();
  /** Sum of entryBytes over keys. */
  stateBytes = 0;

  // This node's judgments, never gossiped.
  down = false;
  downSince = 0;
  /** The freshest heartbeat known when convicted: only a direct message newer than it clears `down`. */
  heartbeatAtConviction = 0;
  /** The freshest heartbeat fed to the detector, from state or from a message header. */
  heartbeatFed = 0;
  /** The freshest heartbeat fed from relayed state (see feed). */
  relayFed = 0;
  leftSince = 0;
  /** When its heartbeat last moved (first- or third-hand): a down node is dropped after long enough without news. */
  lastNewsAt = 0;
  /** When this node first heard of this incarnation. */
  learnedAt = 0;
  /** Heartbeats of this incarnation fed to the detector (newer than the one it was first learned with). */
  feeds = 0;
  /** Rounds in a row this node has pinged it as suspect with no newer heartbeat since (see PeerJudge.pings). */
  probeRounds = 0;
  /**
   * Set for a new run learned through third parties while its old run was live here: since when it has
   * been live on their word (pinged every round, `down` after a first-contact timeout unless a message
   * of its own arrives). Undefined once heard from, or when this never applied.
   */
  unconfirmedSince: number | undefined;

  constructor(
    readonly id: string,
    readonly address: string,
    readonly generation: number,
    public announced: AnnouncedStatus,
  ) {
    this.ref = incarnationRef(id, generation);
  }

  get identity(): Identity {
    return { id: this.id, address: this.address, generation: this.generation };
  }

  /** The newest heartbeat of it known here: from its state, or from a message of its own. */
  get newestHeartbeat(): number {
    return Math.max(this.heartbeat, this.heartbeatFed);
  }

  /** A new run live here only on third parties' word so far (see unconfirmedSince). */
  get unconfirmed(): boolean {
    return this.unconfirmedSince !== undefined;
  }

  /** Whether it is still judged by the first-contact timeout, its heartbeats too few for phi. */
  get onProbation(): boolean {
    return this.feeds < PROBATION_FEEDS;
  }

  get status(): MemberStatus {
    if (this.announced === 'left') return 'left';
    return this.down ? 'down' : this.announced;
  }

  /** Convicted: only a message of its own with a heartbeat newer than any known now clears it. */
  convict(nowMs: number): void {
    this.down = true;
    this.downSince = nowMs;
    this.heartbeatAtConviction = this.newestHeartbeat;
  }

  /** Known only through third parties: down until heard from directly (see docs/ARCHITECTURE.md, Gossip). */
  awaitDirectContact(downSince: number): void {
    this.unconfirmedSince = undefined;
    this.down = true;
    this.downSince = downSince;
    this.heartbeatAtConviction = 0;
  }

  /** First heard of with `items`, whose heartbeat may be rounds old: not news for the detector. */
  learn(items: readonly Item[], nowMs: number): void {
    this.learnedAt = nowMs;
    for (const item of items) if (item.key === undefined) this.heartbeatFed = this.relayFed = item.version;
  }

  /**
   * Records `heartbeat` if it is news for the detector, and says whether it was: newer than any fed, or
   * a relayed one newer than the last relayed (docs/ARCHITECTURE.md, Gossip › Failure detection).
   */
  feed(heartbeat: number, nowMs: number, relayed: boolean): boolean {
    if (this.announced === 'left' || heartbeat <= (relayed ? this.relayFed : this.heartbeatFed)) return false;
    if (relayed) this.relayFed = heartbeat;
    this.heartbeatFed = Math.max(this.heartbeatFed, heartbeat);
    this.feeds++;
    this.probeRounds = 0;
    this.lastNewsAt = nowMs;
    return true;
  }

  /**
   * Takes the owner's `items` newer than what it holds (duplicates and reorderings are harmless), tells
   * `changed` of each application key as it is taken, and returns the verdicts value among them, if any.
   */
  merge(items: readonly Item[], changed: (key: string, value: string, version: number) => void): string | undefined {
    let verdicts: string | undefined;
    for (const item of items) {
      if (item.version <= this.maxVersion) continue;
      if (item.key === undefined) {
        this.heartbeat = item.version;
        this.announced = item.status;
      } else {
        this.put(item.key, item.value, item.version);
        if (item.key === VERDICTS_KEY) verdicts = item.value;
        else changed(item.key, item.value, item.version);
      }
      this.maxVersion = item.version;
    }
    return verdicts;
  }

  put(key: string, value: string, version: number): void {
    const old = this.keys.get(key);
    this.stateBytes += entryBytes(key, value) - (old ? entryBytes(key, old.value) : 0);
    this.keys.set(key, { value, version });
  }

  /** The entries newer than `version`, in increasing version order. */
  itemsAfter(version: number): Item[] {
    const items: Item[] = [];
    if (this.heartbeat > version) items.push({ version: this.heartbeat, key: undefined, status: this.announced });
    for (const [key, entry] of this.keys)
      if (entry.version > version) items.push({ version: entry.version, key, value: entry.value });
    if (items.length > 1) items.sort((a, b) => a.version - b.version);
    return items;
  }

  /** What is held of it, with versions (for inspection and tests). */
  snapshot(): { generation: number; heartbeat: number; maxVersion: number; versions: Record<string, number> } {
    const versions: Record<string, number> = {};
    for (const [key, entry] of this.keys) versions[key] = entry.version;
    return { generation: this.generation, heartbeat: this.heartbeat, maxVersion: this.maxVersion, versions };
  }

  toMember(): Member {
    const member: Member = {
      id: this.id,
      address: this.address,
      status: this.status,
      generation: this.generation,
      heartbeat: this.heartbeat,
      state: this.userState(),
    };
    const version = this.keys.get(VERSION_KEY)?.value;
    if (version !== undefined) member.version = version;
    const appVersion = this.keys.get(APP_VERSION_KEY)?.value;
    if (appVersion !== undefined) member.appVersion = appVersion;
    return member;
  }

  /** The owner's keys, its internal verdicts and forgotten list aside. */
  userState(): Record<string, string> {
    const state: Record<string, string> = {};
    for (const [key, entry] of this.keys) if (key !== VERDICTS_KEY && key !== FORGOTTEN_KEY) state[key] = entry.value;
    return state;
  }
}

/** State bytes of `endpoint` (of an empty state when undefined) once `items` newer than it holds are applied. */
export function stateBytesAfter(endpoint: EndpointState | undefined, items: readonly Item[]): number {
  let bytes = endpoint?.stateBytes ?? 0;
  const maxVersion = endpoint?.maxVersion ?? 0;
  let seen: Map<string, string> | undefined;
  for (const item of items) {
    if (item.key === undefined || item.version <= maxVersion) continue;
    seen ??= new Map();
    const before = seen.get(item.key) ?? endpoint?.keys.get(item.key)?.value;
    bytes += entryBytes(item.key, item.value) - (before === undefined ? 0 : entryBytes(item.key, before));
    seen.set(item.key, item.value);
  }
  return bytes;
}

import type { GossipOptions } from '../options/elastica-options.js';
import { stateBytesAfter, type EndpointState } from './endpoint-state.js';
import type { GossipStats } from './gossip-stats.js';
import type { GossipListener } from './gossip.types.js';
import { decodeVerdicts, type Verdict } from './verdicts.js';
import { GossipDecodeError } from '../errors/gossip-decode.error.js';
import { decodeMessage } from './wire/codec.js';
import type { GossipMessage, Item } from './wire/messages.js';

/** Refused claims are logged at most once per this, with the counts: a hostile peer must not flood the log. */
const REFUSAL_LOG_EVERY_MS = 60_000;

/**
 * The highest version incarnation `generation` can have stamped by `nowMs` (one a ms since it started),
 * plus `slackMs`: see docs/ARCHITECTURE.md, Gossip › Lifecycle.
 */
export function stampableVersion(generation: number, nowMs: number, slackMs: number): number {
  return nowMs - generation + slackMs;
}

/**
 * What this node takes from others, and what it refuses, counts in `stats` and logs rarely: see
 * docs/ARCHITECTURE.md, Gossip › One exchange ("What others can make a node hold is bounded").
 */
export class Admission {
  /** Address of the message being handled, for the log lines of refusals. */
  private sender = '';
  private lastRefusalLogAt = -Infinity;

  constructor(
    private readonly options: GossipOptions,
    private readonly stats: GossipStats,
    private readonly listener: GossipListener,
  ) {}

  /** The message `from` sent, or undefined when it is longer than the MTU or malformed. */
  message(from: string, bytes: Uint8Array, nowMs: number): GossipMessage | undefined {
    this.sender = from;
    if (bytes.length > this.options.mtuBytes) {
      // No peer of this cluster sends more than the MTU; reading it could make this node hold more than
      // any state allows.
      this.stats.refusedOversized++;
      this.noteRefusal(
        nowMs,
        `refused a gossip message of ${bytes.length} bytes from ${from}: more than gossip.mtuBytes (${this.options.mtuBytes}); every node of a cluster must use the same gossip.mtuBytes`,
      );
      return undefined;
    }
    try {
      return decodeMessage(bytes);
    } catch (error) {
      if (!(error instanceof GossipDecodeError)) throw error;
      this.stats.malformed++;
      if (this.stats.malformed <= 10 || this.stats.malformed % 1000 === 0) {
        this.listener.notice?.(
          'warn',
          `dropped malformed gossip from ${from} (${this.stats.malformed} so far): ${error.message}`,
        );
      }
      return undefined;
    }
  }

  /** Whether `generation` of node `id` is within the clock skew tolerated, not a run from the far future. */
  plausibleGeneration(id: string, generation: number, nowMs: number): boolean {
    if (generation <= nowMs + this.options.maxGenerationSkewMs) return true;
    this.stats.refusedGenerations++;
    this.noteRefusal(
      nowMs,
      `refused a claim from ${this.sender} about node ${id}: generation ${generation} is more than gossip.maxGenerationSkewMs (${this.options.maxGenerationSkewMs} ms) in the future`,
    );
    return false;
  }

  /**
   * Whether `version` of incarnation (id, generation) can have been stamped by its owner. A plausible
   * lie is left to the owner's refutation; an absurd one (near 2^53) would leave it no version above.
   */
  plausibleVersion(id: string, generation: number, version: number, nowMs: number): boolean {
    if (version <= stampableVersion(generation, nowMs, this.options.maxGenerationSkewMs)) return true;
    this.stats.refusedVersions++;
    this.noteRefusal(
      nowMs,
      `refused a claim from ${this.sender} about node ${id}: version ${version} is more than its owner can have stamped since its generation ${generation}`,
    );
    return false;
  }

  /**
   * Whether `items` keep the state of node `id` (`endpoint`, or a new incarnation when undefined) within
   * twice gossip.maxStateBytes. A delta is refused whole: part of it would leave a gap in the owner's versions.
   */
  stateFits(id: string, endpoint: EndpointState | undefined, items: readonly Item[], nowMs: number): boolean {
    const bytes = stateBytesAfter(endpoint, items);
    const limit = 2 * this.options.maxStateBytes;
    if (bytes <= limit) return true;
    this.stats.refusedState++;
    this.noteRefusal(
      nowMs,
      `refused a claim from ${this.sender} about node ${id}: its state would take ${bytes} bytes, more than twice gossip.maxStateBytes (${this.options.maxStateBytes})`,
    );
    return false;
  }

  /** Node `id` is new and the table is full of the living: refused. */
  refuseMember(id: string, known: number, nowMs: number): void {
    this.stats.refusedMembers++;
    this.noteRefusal(
      nowMs,
      `refused node ${id} from ${this.sender}: ${known} nodes are known already, none of them departed or down (gossip.maxMembers)`,
    );
  }

  /** The verdicts `owner` published as `value`, or undefined when the value is not one a node writes. */
  verdicts(owner: EndpointState, value: string, nowMs: number): Verdict[] | undefined {
    try {
      return decodeVerdicts(value);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      this.stats.refusedVerdicts++;
      this.noteRefusal(nowMs, `refused the verdicts of node ${owner.id} from ${this.sender}: ${error.message}`);
      return undefined;
    }
  }

  /** Whether `owner`'s verdict on `accused` names a heartbeat the accused can have stamped. */
  plausibleVerdict(owner: EndpointState, accused: EndpointState, heartbeat: number, nowMs: number): boolean {
    if (heartbeat <= stampableVersion(accused.generation, nowMs, this.options.maxGenerationSkewMs)) return true;
    this.stats.refusedVerdicts++;
    this.noteRefusal(
      nowMs,
      `refused a verdict of node ${owner.id} on node ${accused.id}: heartbeat ${heartbeat} is more than its owner can have stamped`,
    );
    return false;
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
}

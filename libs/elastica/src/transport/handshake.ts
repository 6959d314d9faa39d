import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { MalformedFrameError } from '../errors/elastica-error.js';
import { parseHostPort } from '../common/host-port.js';

/**
 * The newest wire-protocol version this build speaks. Bumped on any change of the frames; a node
 * speaks every version from PROTOCOL_VERSION_MIN up to it, and each connection uses the highest
 * version both ends speak (see docs/ARCHITECTURE.md, "Protocol versions and rolling upgrades").
 */
export const PROTOCOL_VERSION = 2;
/** Version 2 adds the TRACED_REQUEST frame (a request with the caller's trace context). */
export const TRACE_CONTEXT_PROTOCOL = 2;
/** The oldest version this build still speaks: raised only when support for an old one is dropped. */
export const PROTOCOL_VERSION_MIN = 1;
/** Versions a HELLO may claim at most: a peer-chosen number bounds nothing else. */
const PROTOCOL_VERSION_LIMIT = 0xffff;

/** The wire-protocol versions one side speaks, both ends included. */
export interface ProtocolRange {
  min: number;
  max: number;
}

export const DEFAULT_PROTOCOL_RANGE: ProtocolRange = { min: PROTOCOL_VERSION_MIN, max: PROTOCOL_VERSION };

export function formatProtocolRange(range: ProtocolRange): string {
  return range.min === range.max ? `version ${range.min}` : `versions ${range.min}-${range.max}`;
}

/**
 * The highest version both ranges hold, or undefined when they do not meet. A HELLO travels in its
 * sender's lowest version (the frame's version field): a peer whose lowest is above this node's
 * highest has nothing in common with it, whatever else it says.
 */
export function negotiateProtocol(local: ProtocolRange, remote: ProtocolRange): number | undefined {
  const high = Math.min(local.max, remote.max);
  return high >= Math.max(local.min, remote.min) ? high : undefined;
}

export function protocolMismatch(local: ProtocolRange, remote: ProtocolRange): string {
  return `no common protocol version: the peer speaks ${formatProtocolRange(remote)}, this node speaks ${formatProtocolRange(local)}`;
}

/** Why a connection was refused or closed before (or instead of) carrying traffic. */
export type RefusalReason =
  | 'bad_frame'
  | 'oversized'
  | 'cluster'
  | 'secret'
  | 'protocol'
  | 'handshake_timeout'
  | 'self'
  | 'duplicate'
  | 'tls'
  | 'overloaded';

export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'bad_frame',
  'oversized',
  'cluster',
  'secret',
  'protocol',
  'handshake_timeout',
  'self',
  'duplicate',
  'tls',
  'overloaded',
];

/**
 * Largest frame accepted before the peer is admitted. A HELLO is well under 4 KiB (its fields are
 * length-capped), so a stranger can make this node hold at most this much per pending connection,
 * whatever `rpc.maxFrameBytes` allows members.
 */
export const HANDSHAKE_MAX_FRAME_BYTES = 16 * 1024;

/** Control characters (newlines above all) in a peer-chosen string would let it forge log lines. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** What each side says about itself first. The nonce is this side's challenge to the other. */
export interface Hello {
  cluster: string;
  nodeId: string;
  generation: number;
  /** The advertised "host:port": how gossip names this node. */
  advertise: string;
  nonce: string;
  /** Whether this side has a secret; both must agree. */
  auth: boolean;
  /** Acceptor only, with a secret: its answer to the dialer's nonce, so the dialer verifies first. */
  proof?: string;
  /**
   * Acceptor only: answered as a standby (it already had an established connection with the dialer's
   * very run) or as a fresh one; see docs/ARCHITECTURE.md, "Crossing dials". Absent (an older peer): a standby.
   */
  standby?: boolean;
  /**
   * Dialer only: `admin` for an operator's client (the `elastica` CLI), authenticated like a peer but
   * never a member: its requests go to the admin handlers, and nothing is sent to it unasked.
   */
  role?: 'admin';
  /**
   * The highest wire-protocol version this side speaks; its lowest is the HELLO frame's version. Absent
   * (a version-1 peer, before negotiation): the frame's version is the only one it speaks.
   */
  protocolMax?: number;
}

export interface LocalIdentity {
  cluster: string;
  nodeId: string;
  generation: number;
  advertise: string;
  secret?: string;
  /** `tls.nodeIdInCertificate`: a peer's certificate must name the node id its HELLO claims. */
  nodeIdInCertificate?: boolean;
  /** Set by an admin client (see Hello.role). */
  role?: 'admin';
  /** The wire-protocol versions this node speaks; default DEFAULT_PROTOCOL_RANGE (tests raise it). */
  protocols?: ProtocolRange;
}

export function protocolsOf(local: LocalIdentity): ProtocolRange {
  return local.protocols ?? DEFAULT_PROTOCOL_RANGE;
}

/** The range a HELLO claims: from its frame's version up to its protocolMax. */
export function remoteProtocols(frameVersion: number, hello: Hello | undefined): ProtocolRange {
  return { min: frameVersion, max: Math.max(frameVersion, hello?.protocolMax ?? frameVersion) };
}

export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

export function makeHello(local: LocalIdentity, nonce: string, proof?: Buffer, standby?: boolean): Hello {
  const hello: Hello = {
    cluster: local.cluster,
    nodeId: local.nodeId,
    generation: local.generation,
    advertise: local.advertise,
    nonce,
    auth: local.secret !== undefined,
    protocolMax: protocolsOf(local).max,
  };
  if (proof) hello.proof = proof.toString('base64');
  if (standby !== undefined) hello.standby = standby;
  if (local.role !== undefined) hello.role = local.role;
  return hello;
}

/** Parses the JSON part of a HELLO, checking every field's type: anything else is a bad frame. */
export function parseHello(body: Buffer): Hello {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new MalformedFrameError('HELLO is not valid JSON');
  }
  const str = (k: string, max: number) => {
    const v = value?.[k];
    if (typeof v !== 'string' || v.length === 0 || v.length > max || CONTROL.test(v))
      throw new MalformedFrameError(`HELLO field ${k} is missing or invalid`);
    return v;
  };
  if (typeof value !== 'object' || value === null) throw new MalformedFrameError('HELLO is not an object');
  const generation = value.generation;
  if (typeof generation !== 'number' || !Number.isFinite(generation))
    throw new MalformedFrameError('HELLO field generation is invalid');
  if (typeof value.auth !== 'boolean') throw new MalformedFrameError('HELLO field auth is invalid');
  const hello: Hello = {
    cluster: str('cluster', 256),
    nodeId: str('nodeId', 256),
    generation,
    advertise: str('advertise', 300),
    nonce: str('nonce', 64),
    auth: value.auth,
  };
  if (value.proof !== undefined) hello.proof = str('proof', 128);
  if (value.protocolMax !== undefined) {
    const max = value.protocolMax;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > PROTOCOL_VERSION_LIMIT)
      throw new MalformedFrameError('HELLO field protocolMax is invalid');
    hello.protocolMax = max;
  }
  if (value.standby !== undefined) {
    if (typeof value.standby !== 'boolean') throw new MalformedFrameError('HELLO field standby is invalid');
    hello.standby = value.standby;
  }
  if (value.role !== undefined) {
    if (value.role !== 'admin') throw new MalformedFrameError('HELLO field role is invalid');
    hello.role = 'admin';
  }
  // This node may dial it later (it is how gossip names the peer): it must be a real address.
  try {
    parseHostPort('advertise', hello.advertise);
  } catch {
    throw new MalformedFrameError(`HELLO field advertise ${JSON.stringify(hello.advertise)} is not host:port`);
  }
  return hello;
}

/**
 * The checks both sides make of the other's HELLO (`version`: its frame's); a reason and a message to
 * tell the peer, or nothing.
 */
export function checkHello(
  local: LocalIdentity,
  version: number,
  hello: Hello,
): { reason: RefusalReason; message: string } | undefined {
  const ours = protocolsOf(local);
  const theirs = remoteProtocols(version, hello);
  if (negotiateProtocol(ours, theirs) === undefined) {
    return { reason: 'protocol', message: protocolMismatch(ours, theirs) };
  }
  if (hello.cluster !== local.cluster) {
    return {
      reason: 'cluster',
      message: `wrong cluster ${JSON.stringify(hello.cluster)} (this node is in ${JSON.stringify(local.cluster)})`,
    };
  }
  if (hello.auth !== (local.secret !== undefined)) {
    return { reason: 'secret', message: local.secret ? 'a secret is required' : 'this node has no secret' };
  }
  if (hello.nodeId === local.nodeId) {
    return { reason: 'self', message: `node id ${JSON.stringify(hello.nodeId)} is this node's own id` };
  }
  return undefined;
}

/** One side's proof that it holds the secret (what it binds, and why: docs/ARCHITECTURE.md, "The handshake"). */
export function computeProof(
  secret: string,
  role: 'dialer' | 'acceptor',
  senderId: string,
  receiverId: string,
  receiverNonce: string,
  senderNonce: string,
): Buffer {
  return createHmac('sha256', secret)
    .update(
      ['elastica-proof-v1', role, senderId, receiverId, receiverNonce, senderNonce]
        .map((s) => `${s.length}:${s}`)
        .join('|'),
    )
    .digest();
}

export function verifyProof(expected: Buffer, given: Buffer | string | undefined): boolean {
  if (given === undefined) return false;
  const bytes = typeof given === 'string' ? Buffer.from(given, 'base64') : given;
  return bytes.length === expected.length && timingSafeEqual(bytes, expected);
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { MalformedFrameError } from '../errors/elastica-error.js';
import { parseHostPort } from '../common/host-port.js';

/** Bumped on any incompatible change of the frames; peers of another version are refused. */
export const PROTOCOL_VERSION = 1;

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

/** The checks both sides make of the other's HELLO; a reason and a message to tell the peer, or nothing. */
export function checkHello(
  local: LocalIdentity,
  version: number,
  hello: Hello,
): { reason: RefusalReason; message: string } | undefined {
  if (version !== PROTOCOL_VERSION) {
    return {
      reason: 'protocol',
      message: `protocol version ${version} is not supported (this node speaks ${PROTOCOL_VERSION})`,
    };
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

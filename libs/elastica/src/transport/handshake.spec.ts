import { describe, expect, it } from '@jest/globals';
import { backoffDelay } from './backoff.js';
import {
  checkHello,
  computeProof,
  makeHello,
  negotiateProtocol,
  parseHello,
  PROTOCOL_VERSION,
  remoteProtocols,
  verifyProof,
  type LocalIdentity,
} from './handshake.js';

const local: LocalIdentity = { cluster: 'orders', nodeId: 'a', generation: 1, advertise: '10.0.0.1:7000', secret: 's' };
const peer = { ...makeHello({ ...local, nodeId: 'b', advertise: '10.0.0.2:7000' }, 'nonce-b') };

describe('handshake', () => {
  it("carries an admin client's role, and refuses any other role as a bad frame", () => {
    const admin = makeHello({ ...local, nodeId: 'operator', role: 'admin' }, 'nonce-o');
    expect(parseHello(Buffer.from(JSON.stringify(admin))).role).toBe('admin');
    expect(parseHello(Buffer.from(JSON.stringify(peer))).role).toBeUndefined();
    expect(() => parseHello(Buffer.from(JSON.stringify({ ...admin, role: 'root' })))).toThrow(/role/);
  });

  it('accepts a peer of the same cluster, version and secret setting', () => {
    expect(checkHello(local, PROTOCOL_VERSION, peer)).toBeUndefined();
  });

  it('names what is wrong with a peer', () => {
    expect(checkHello(local, PROTOCOL_VERSION + 1, peer)?.reason).toBe('protocol');
    expect(checkHello(local, PROTOCOL_VERSION, { ...peer, cluster: 'billing' })?.reason).toBe('cluster');
    expect(checkHello(local, PROTOCOL_VERSION, { ...peer, auth: false })?.reason).toBe('secret');
    expect(checkHello({ ...local, secret: undefined }, PROTOCOL_VERSION, peer)?.reason).toBe('secret');
    expect(checkHello(local, PROTOCOL_VERSION, { ...peer, nodeId: 'a' })?.reason).toBe('self');
  });

  it('uses the highest protocol version both sides speak, and names both ranges when there is none', () => {
    expect(negotiateProtocol({ min: 1, max: 2 }, { min: 1, max: 1 })).toBe(1);
    expect(negotiateProtocol({ min: 1, max: 2 }, { min: 1, max: 3 })).toBe(2);
    expect(negotiateProtocol({ min: 2, max: 3 }, { min: 1, max: 1 })).toBeUndefined();
    // A version-1 peer says nothing of a range: the HELLO frame's version is all it speaks.
    const old: Record<string, unknown> = { ...peer };
    delete old.protocolMax;
    expect(remoteProtocols(1, old as typeof peer)).toEqual({ min: 1, max: 1 });
    const raised = { ...local, protocols: { min: 2, max: 2 } };
    expect(checkHello(raised, 1, { ...peer, protocolMax: 1 })).toEqual({
      reason: 'protocol',
      message: 'no common protocol version: the peer speaks version 1, this node speaks version 2',
    });
    expect(checkHello({ ...local, protocols: { min: 1, max: 2 } }, 1, { ...peer, protocolMax: 3 })).toBeUndefined();
    expect(() => parseHello(Buffer.from(JSON.stringify({ ...peer, protocolMax: 0 })))).toThrow(/protocolMax/);
    expect(parseHello(Buffer.from(JSON.stringify({ ...peer, protocolMax: 2 }))).protocolMax).toBe(2);
  });

  it('accepts a proof only for the same secret, role, ids and nonces (no reflection, no replay)', () => {
    const proof = computeProof('s', 'dialer', 'a', 'b', 'nb', 'na');
    expect(verifyProof(computeProof('s', 'dialer', 'a', 'b', 'nb', 'na'), proof)).toBe(true);
    expect(verifyProof(computeProof('t', 'dialer', 'a', 'b', 'nb', 'na'), proof)).toBe(false);
    expect(verifyProof(computeProof('s', 'acceptor', 'a', 'b', 'nb', 'na'), proof)).toBe(false);
    expect(verifyProof(computeProof('s', 'dialer', 'b', 'a', 'nb', 'na'), proof)).toBe(false);
    expect(verifyProof(computeProof('s', 'dialer', 'a', 'b', 'nb2', 'na'), proof)).toBe(false);
    expect(verifyProof(computeProof('s', 'dialer', 'a', 'b', 'nb', 'na'), proof.toString('base64'))).toBe(true);
    expect(verifyProof(computeProof('s', 'dialer', 'a', 'b', 'nb', 'na'), undefined)).toBe(false);
  });

  it('parses only well-formed HELLOs', () => {
    expect(parseHello(Buffer.from(JSON.stringify(peer)))).toEqual(peer);
    expect(() => parseHello(Buffer.from('{'))).toThrow(/not valid JSON/);
    expect(() => parseHello(Buffer.from(JSON.stringify({ ...peer, nodeId: 5 })))).toThrow(/nodeId/);
    expect(() => parseHello(Buffer.from(JSON.stringify({ ...peer, generation: 'x' })))).toThrow(/generation/);
    expect(() => parseHello(Buffer.from('null'))).toThrow(/HELLO/);
    // the advertised address is dialled later and named in logs: a real host:port, no control characters
    expect(() => parseHello(Buffer.from(JSON.stringify({ ...peer, advertise: ';' })))).toThrow(
      /advertise.*not host:port/,
    );
    expect(() => parseHello(Buffer.from(JSON.stringify({ ...peer, advertise: '10.0.0.2:0' })))).toThrow(/advertise/);
    expect(() => parseHello(Buffer.from(JSON.stringify({ ...peer, nodeId: 'b\nrefused connection with x' })))).toThrow(
      /nodeId/,
    );
  });

  it("carries the acceptor's standby answer, and leaves it out when not given (an older peer)", () => {
    const answer = makeHello({ ...local, nodeId: 'b', advertise: '10.0.0.2:7000' }, 'nonce-b', undefined, false);
    expect(parseHello(Buffer.from(JSON.stringify(answer))).standby).toBe(false);
    expect(parseHello(Buffer.from(JSON.stringify({ ...answer, standby: true }))).standby).toBe(true);
    expect(parseHello(Buffer.from(JSON.stringify(peer))).standby).toBeUndefined();
    expect(() => parseHello(Buffer.from(JSON.stringify({ ...peer, standby: 'yes' })))).toThrow(/standby/);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially to the cap, with half of it jittered', () => {
    expect(backoffDelay(1, 100, 10_000, 0)).toBe(50);
    expect(backoffDelay(1, 100, 10_000, 0.999)).toBeCloseTo(99.95);
    expect(backoffDelay(4, 100, 10_000, 0)).toBe(400);
    expect(backoffDelay(40, 100, 10_000, 0)).toBe(5000);
    expect(backoffDelay(40, 100, 10_000, 0.5)).toBe(7500);
  });
});

import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { ElasticaOptionsError, NodeUnavailableError } from 'elastica';
import { AdminClient, type AdminStatus } from 'elastica/testing';
import { TestHandlers } from '../transport/handlers.js';
import { closeStartedNodes, startNode, startTrackedNode, type TestNode } from '../support/elastica-node.js';
import { until } from '../support/until.js';
import { TestPki } from './certificates.js';

/** TLS on the one peer connection: certificates generated now by openssl, verified both ways against the cluster CA. */

const SECRET = 'tls and a secret';
let pki: TestPki;
const node = startTrackedNode;

beforeAll(() => {
  pki = new TestPki();
});
afterAll(async () => {
  await closeStartedNodes();
  pki?.dispose();
});

describe('TLS between nodes', () => {
  let a: TestNode;
  beforeAll(async () => {
    a = await node('tls-a', { secret: SECRET, tls: pki.node('tls-a') }, [TestHandlers]);
  });

  it('two nodes with certificates of the cluster CA do RPC over TLS, the handshake and HMAC running inside', async () => {
    const b = await node('tls-b', { secret: SECRET, tls: pki.node('tls-b') }, [TestHandlers]);
    expect(await b.transport.connect(a.address)).toBe('tls-a');
    expect(await firstValueFrom(b.client.send('tls-a', 'echo', 'over tls'))).toEqual({
      data: 'over tls',
      sender: 'tls-b',
      pattern: 'echo',
    });
    expect(await firstValueFrom(a.client.send('tls-b', { cmd: 'double' }, 21))).toBe(42);
    // one connection, both ways
    expect(a.transport.connections()).toHaveLength(1);
    expect(b.transport.connections()).toHaveLength(1);
  });

  it('serves an admin client (the CLI) over TLS with a cluster-CA certificate, and refuses one without TLS', async () => {
    // The default cluster name, which these nodes keep.
    const client = await AdminClient.connect({
      node: a.address,
      cluster: 'elastica',
      secret: SECRET,
      tls: pki.node('operator'),
    });
    try {
      expect((await client.request<AdminStatus>('status')).self).toBe('tls-a');
    } finally {
      client.close();
    }
    await expect(
      AdminClient.connect({ node: a.address, cluster: 'elastica', secret: SECRET, timeoutMs: 3000 }),
    ).rejects.toThrow();
  });

  it('refuses a node whose certificate another CA signed, both as acceptor and as dialer', async () => {
    const before = a.transport.stats().refused.tls;
    const foreign = await node('tls-foreign', {
      secret: SECRET,
      tls: { ...pki.node('tls-foreign', 'foreign'), ca: pki.foreignCa.cert },
    });
    // foreign dials a: a (acceptor) rejects its certificate, and foreign rejects a's
    const error = await foreign.transport.connect(a.address).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeUnavailableError);
    expect((error as Error).message).toMatch(/tls/i);
    expect(
      foreign.transport.stats().refused.tls + (foreign.transport.stats().refusedByPeer.tls ?? 0),
    ).toBeGreaterThanOrEqual(1);
    // a dials foreign: the dialer refuses a certificate of another CA before a single frame
    await expect(a.transport.connect(foreign.address)).rejects.toThrow(/refused \(tls\)/);
    await until('a tls refusal at a', () => a.transport.stats().refused.tls >= before + 1, 10_000, 20);
    expect(a.transport.connections().map((c) => c.nodeId)).not.toContain('tls-foreign');
    expect(foreign.transport.connections()).toEqual([]);
  });

  it('as acceptor, refuses a client whose certificate another CA signed even when it trusts ours', async () => {
    const before = a.transport.stats().refused.tls;
    // trusts the cluster CA (so it accepts a's certificate) but presents one the cluster CA never signed
    const impostor = await node('tls-impostor', {
      secret: SECRET,
      tls: { ...pki.node('tls-impostor', 'foreign'), ca: pki.ca.cert },
    });
    const error = await impostor.transport.connect(a.address).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeUnavailableError);
    // TLS 1.3: the client finishes its side first; the acceptor then drops it (its alert may not arrive)
    // (>=: a also keeps redialling the foreign node of the previous test, each refused)
    await until('a tls refusal at a', () => a.transport.stats().refused.tls >= before + 1, 10_000, 20);
    expect(a.transport.connections().map((c) => c.nodeId)).not.toContain('tls-impostor');
    expect(impostor.transport.connections()).toEqual([]);
  });

  it('refuses a cluster-CA node holding the wrong secret: TLS does not replace the secret', async () => {
    const wrong = await node('tls-wrong-secret', { secret: 'not it', tls: pki.node('tls-wrong-secret') });
    await expect(wrong.transport.connect(a.address)).rejects.toThrow(/\(secret\)/);
    expect(wrong.transport.connections()).toEqual([]);
  });

  it('a plain-TCP node and a TLS node cannot talk, whichever dials', async () => {
    // a TLS node of its own, with no history of refusals (a above keeps redialling the foreign node)
    const secure = await node('tls-fresh', { secret: SECRET, tls: pki.node('tls-fresh') });
    const plain = await node('plain', { secret: SECRET });
    await expect(plain.transport.connect(secure.address)).rejects.toThrow(NodeUnavailableError);
    await until('one tls refusal at the TLS node', () => secure.transport.stats().refused.tls === 1, 10_000, 20);
    await expect(secure.transport.connect(plain.address)).rejects.toThrow(/refused \(tls\)/);
    // the plain node sees TLS bytes where a frame should be: refused from the length prefix
    await until(
      "the plain node's refusal of TLS bytes",
      () => plain.transport.stats().refused.oversized + plain.transport.stats().refused.bad_frame >= 1,
      10_000,
      20,
    );
    expect(plain.transport.connections()).toEqual([]);
    expect(secure.transport.connections()).toEqual([]);
  });
});

describe('TLS with node ids bound to certificates (tls.nodeIdInCertificate)', () => {
  let honest: TestNode;
  beforeAll(async () => {
    // pki.node(name) issues a certificate whose CN is `name`
    honest = await node('bound-a', { secret: SECRET, tls: { ...pki.node('bound-a'), nodeIdInCertificate: true } }, [
      TestHandlers,
    ]);
  });

  it('connects nodes whose certificates name the ids they claim', async () => {
    const b = await node('bound-b', { secret: SECRET, tls: { ...pki.node('bound-b'), nodeIdInCertificate: true } });
    expect(await b.transport.connect(honest.address)).toBe('bound-a');
    expect(await firstValueFrom(b.client.send('bound-a', 'echo', 'named'))).toEqual({
      data: 'named',
      sender: 'bound-b',
      pattern: 'echo',
    });
  });

  it('refuses a member of the cluster CA claiming an id its certificate does not name, as acceptor and as dialer', async () => {
    // A real certificate of the cluster's CA and the secret, but issued for bound-b: it claims to be bound-x.
    const liar = await node('bound-x', { secret: SECRET, tls: pki.node('bound-b') });
    const before = honest.transport.stats().refused.tls;
    const error = await liar.transport.connect(honest.address).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeUnavailableError);
    expect((error as Error).message).toMatch(
      /refused by peer \(tls\): the certificate of .* names "bound-b", "localhost", not the node id "bound-x" its HELLO claims/,
    );
    expect(honest.transport.stats().refused.tls).toBe(before + 1);
    // honest dials the liar: the liar's HELLO claims bound-x, its certificate names bound-b
    await expect(honest.transport.connect(liar.address)).rejects.toThrow(
      /refused \(tls\): the certificate of .* names "bound-b", "localhost", not the node id "bound-x"/,
    );
    expect(honest.transport.stats().refused.tls).toBe(before + 2);
    expect(honest.transport.connections().map((c) => c.nodeId)).not.toContain('bound-x');
    expect(liar.transport.connections()).toEqual([]);
  });

  it('refuses to start a node whose own certificate does not name its id', async () => {
    const error = await startNode('bound-y', {
      secret: SECRET,
      tls: { ...pki.node('bound-z'), nodeIdInCertificate: true },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ElasticaOptionsError);
    expect((error as Error).message).toMatch(
      /`tls\.nodeIdInCertificate`: this node's own certificate names "bound-z", "localhost", not the node id "bound-y"/,
    );
  });
});

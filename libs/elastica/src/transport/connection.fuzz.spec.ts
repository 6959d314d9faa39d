import { afterAll, afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { DEFAULT_RPC } from '../options/defaults.js';
import type { RpcOptions } from '../options/elastica-options.js';
import { Connection, type CloseInfo, type ConnectionEvents } from './connection.js';
import { ConnectionRegistry } from './connection-registry.js';
import { encodeAuth, encodeHello } from './frames.js';
import {
  computeProof,
  HANDSHAKE_MAX_FRAME_BYTES,
  makeHello,
  PROTOCOL_VERSION,
  REFUSAL_REASONS,
  type LocalIdentity,
} from './handshake.js';
import { stream } from './testing/hostile-input.js';
import { Peer } from './peer.js';

/**
 * Fuzzes the decoder, the frame parser, the handshake state machine and the registry's handling of
 * established traffic together, without sockets: a fake socket feeds a real Connection wired to a real
 * ConnectionRegistry, on fake timers. 100,000 cases per run (four properties of 25,000).
 *
 * Invariants: nothing throws out of the socket's 'data' callback (that would take the node down);
 * the bytes held never exceed one frame of the current limit, and before the handshake that limit is
 * the small handshake one; what the node writes to a stranger is bounded; a connection that is not
 * established by the end of the handshake timeout is closed, once, with a reason that is counted;
 * without the secret nobody is ever established, and an unproven HELLO leaves no peer entry behind.
 */

const CASES_PER_PROPERTY = Number(process.env.FUZZ_CASES ?? 25_000);
const HANDSHAKE_TIMEOUT = 1000;
let cases = 0;

class FakeSocket extends EventEmitter {
  written = 0;
  ended = false;
  destroyed = false;
  readonly remoteAddress = '192.0.2.66';
  readonly remotePort = 40000;
  readonly localPort = 7000;
  readonly writableLength = 0;
  write(bytes: Uint8Array): boolean {
    this.written += bytes.byteLength;
    return true;
  }
  end(bytes?: Uint8Array): void {
    if (bytes) this.written += bytes.byteLength;
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  setNoDelay(): void {}
  setKeepAlive(): void {}
  cork(): void {}
  uncork(): void {}
}

const local: LocalIdentity = {
  cluster: 'orders',
  nodeId: 'node-m',
  generation: 1_700_000_000_000,
  advertise: '10.0.0.1:7000',
};

// ---- the node under attack ------------------------------------------------------------------------

interface Rig {
  registry: ConnectionRegistry;
  conn: Connection;
  socket: FakeSocket;
  closes: CloseInfo[];
  /** Set when the connection reached 'established', even if it closed since. */
  member: boolean;
}

function rig(direction: 'inbound' | 'outbound', secret: string | undefined, maxFrameBytes: number): Rig {
  const identity = { ...local, secret };
  const rpc: RpcOptions = { ...DEFAULT_RPC, maxFrameBytes, handshakeTimeoutMs: HANDSHAKE_TIMEOUT };
  const registry = new ConnectionRegistry(
    identity,
    rpc,
    {
      gossip: () => undefined,
      // a handler that answers with what it got: the reply path sees hostile values too
      request: (call) => call.reply(call.data),
      event: () => undefined,
    },
    { log: () => undefined, warn: () => undefined, debug: () => undefined },
    () => 0.5,
  );
  const closes: CloseInfo[] = [];
  const real = registry['events'];
  const events: ConnectionEvents = {
    ...real,
    established: (c) => {
      r.member = true;
      real.established(c);
    },
    closed: (c, info) => {
      closes.push(info);
      real.closed(c, info);
    },
  };
  // Never dial for real from a unit test: a redial (after a member's connection dropped) is only recorded.
  (registry as unknown as { dial(peer: Peer): void }).dial = () => undefined;
  const socket = new FakeSocket();
  const conn = new Connection(
    socket as unknown as Socket,
    direction,
    identity,
    maxFrameBytes,
    HANDSHAKE_TIMEOUT,
    events,
  );
  if (direction === 'inbound') registry['unattached'].add(conn);
  else {
    const peer: Peer = registry['peerFor']('10.0.0.2:7000');
    conn.owner = peer;
    peer.connecting = conn;
  }
  const r: Rig = { registry, conn: undefined as unknown as Connection, socket, closes, member: false };
  r.conn = conn;
  return r;
}

/** Feeds the chunks, checking after each what must hold at every moment. */
function feed(r: Rig, chunks: Buffer[]): void {
  const decoder = r.conn['decoder'];
  for (const chunk of chunks) {
    // node:assert in the hot loop: Jest's expect costs more than the code under test.
    r.socket.emit('data', chunk); // a throw here fails the property: in a node it would be an uncaught exception
    assert.ok(
      decoder.bufferedBytes <= decoder.limit + 4,
      `holding ${decoder.bufferedBytes} bytes with a limit of ${decoder.limit}`,
    );
    if (!r.member) {
      assert.ok(decoder.limit <= HANDSHAKE_MAX_FRAME_BYTES, 'a stranger got the member frame limit');
      // a stranger gets at most our HELLO and a REFUSE
      assert.ok(r.socket.written + r.conn.bufferedBytes <= 2 * 1024, `wrote ${r.socket.written} bytes to a stranger`);
    }
    if (r.closes.length > 0) assert.ok(r.socket.ended || r.socket.destroyed, 'closed but the socket is still open');
  }
}

/** After the handshake timeout: established, or closed once with a counted reason. */
function settle(r: Rig): void {
  jest.advanceTimersByTime(HANDSHAKE_TIMEOUT + 1);
  assert.ok(r.closes.length <= 1, 'closed more than once');
  if (r.conn.state !== 'established') {
    assert.equal(r.conn.state, 'closed');
    const [info] = r.closes;
    assert.ok(info.refused ?? info.refusedByPeer, `closed without a reason: ${info.message}`);
    if (info.refused) {
      assert.ok(REFUSAL_REASONS.includes(info.refused));
      assert.equal(r.registry.stats().refused[info.refused], 1, 'a refusal counted other than once');
    } else {
      assert.ok(
        Object.keys(r.registry.stats().refusedByPeer).every(
          (k) => k === 'unknown' || (REFUSAL_REASONS as string[]).includes(k),
        ),
      );
    }
  }
  r.conn.destroy('end of case');
  cases++;
}

const maxFrame = fc.constantFrom(1024, 4096, 65_536);

describe('Connection under hostile input (fuzz, no sockets)', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
  });
  afterEach(() => {
    jest.clearAllTimers();
    jest.useRealTimers();
  });

  it('as acceptor without a secret: never crashes, holds little, ends every unfinished handshake with a reason', () => {
    fc.assert(
      fc.property(stream, maxFrame, (chunks, max) => {
        const r = rig('inbound', undefined, max);
        feed(r, chunks);
        if (r.conn.state === 'established') {
          // only a HELLO that passed every check gets here
          assert.equal(r.conn.remoteHello!.cluster, 'orders');
          assert.notEqual(r.conn.remoteHello!.nodeId, local.nodeId);
          assert.match(r.conn.remoteHello!.advertise, /^[^:\s]+:\d+$/);
        }
        settle(r);
      }),
      { numRuns: CASES_PER_PROPERTY },
    );
  });

  it('as acceptor with a secret: a stranger is never established and leaves nothing behind', () => {
    fc.assert(
      fc.property(stream, maxFrame, (chunks, max) => {
        const r = rig('inbound', 'the secret', max);
        feed(r, chunks);
        assert.notEqual(r.conn.state, 'established');
        assert.equal(r.registry['peers'].size, 0, 'an unproven HELLO left a peer entry');
        settle(r);
        assert.equal(r.registry['unattached'].size, 0);
      }),
      { numRuns: CASES_PER_PROPERTY },
    );
  });

  it('as dialer: whatever the far side answers, no crash; with a secret, no connection without the proof', () => {
    fc.assert(
      fc.property(stream, maxFrame, fc.boolean(), (chunks, max, withSecret) => {
        const r = rig('outbound', withSecret ? 'the secret' : undefined, max);
        feed(r, chunks);
        if (withSecret) assert.notEqual(r.conn.state, 'established');
        settle(r);
      }),
      { numRuns: CASES_PER_PROPERTY },
    );
  });

  it('once a member is established (secret proven): bad traffic closes only its connection, with a reason', () => {
    fc.assert(
      fc.property(stream, maxFrame, (chunks, max) => {
        const r = rig('inbound', 'the secret', max);
        const theirNonce = 'bm9uY2UtYQ==';
        r.socket.emit(
          'data',
          encodeHello(
            PROTOCOL_VERSION,
            makeHello({ ...local, secret: 'the secret', nodeId: 'node-a', advertise: '10.0.0.2:7000' }, theirNonce),
          ),
        );
        assert.equal(r.conn.state, 'auth');
        r.socket.emit(
          'data',
          encodeAuth(computeProof('the secret', 'dialer', 'node-a', local.nodeId, r.conn['nonce'], theirNonce)),
        );
        assert.equal(r.conn.state, 'established');
        assert.equal(r.conn['decoder'].limit, max);
        feed(r, chunks);
        settle(r);
        if (r.conn.state === 'closed' && r.closes[0]?.refused)
          assert.ok(['bad_frame', 'oversized'].includes(r.closes[0].refused), r.closes[0].refused);
      }),
      { numRuns: CASES_PER_PROPERTY },
    );
  });
});

afterAll(() => {
  // The issue asks for at least 100,000 cases per CI run; fail loudly if someone trims the runs.
  if (process.env.FUZZ_CASES === undefined) expect(cases).toBeGreaterThanOrEqual(100_000);
});

import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { GossipService, NodeUnavailableError } from 'elastica';
import { TestHandlers } from './handlers.js';
import { closeStartedNodes, startNode, startTrackedNode } from '../support/elastica-node.js';
import { failsAtOnce } from './fails-at-once.js';
import { until } from '../support/until.js';

afterAll(closeStartedNodes);

// Gossip over the real transport, with rounds and a detector fast enough for a test.
const fast = {
  gossip: { intervalMs: 100 },
  failureDetector: {
    firstHeartbeatEstimateMs: 100,
    acceptableHeartbeatPauseMs: 300,
    maxIntervalMs: 400,
    minStdDeviationMs: 50,
  },
};

describe('a member killed without leaving, once convicted down', () => {
  it('fails calls and events to it at once with NodeUnavailableError, not after a timeout', async () => {
    const a = await startTrackedNode('down-a', fast, [TestHandlers]);
    const b = await startNode('down-b', { ...fast, seeds: [a.address] }, [TestHandlers]);
    const gossip = a.app.get(GossipService);
    await until('down-b up for A', () => gossip.member('down-b')?.status === 'up', 10_000, 20);
    expect(await firstValueFrom(a.client.send('down-b', 'echo', 1))).toEqual({
      data: 1,
      sender: 'down-a',
      pattern: 'echo',
    });

    await b.close(); // no leave(): a crash, as far as A can tell
    await until('down-b down for A', () => gossip.member('down-b')?.status === 'down', 20_000, 20);

    // Refused while subscribing (the call waits forever otherwise: timeoutMs 0), by membership: the
    // reason is the member's status, not the connection's backoff.
    const error = failsAtOnce(a.client.send('down-b', 'echo', 2, { timeoutMs: 0 }));
    expect(error).toBeInstanceOf(NodeUnavailableError);
    expect((error as Error).message).toBe('node down-b is unavailable: its status is down');
    expect(failsAtOnce(a.client.emit('down-b', 'note', 'x'))).toBeInstanceOf(NodeUnavailableError);
    // The promise form rejects with that type too, though the call's own timeout is a minute away.
    await expect(firstValueFrom(a.client.send('down-b', 'echo', 3, { timeoutMs: 60_000 }))).rejects.toBeInstanceOf(
      NodeUnavailableError,
    );
  }, 30_000);
});

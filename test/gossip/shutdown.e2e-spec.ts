import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';
import { ClusterMessage, GossipService, NodeDrainingError, NodeUnavailableError, ShutdownService } from 'elastica';
import { closeStartedNodes, startTrackedNode, type TestNode } from '../support/elastica-node.js';
import { until } from '../support/until.js';

/** A handler that answers only when the test lets it: a call in flight for as long as the test needs. */
@Controller()
class GatedHandlers {
  static release: (() => void) | undefined;
  static started = 0;

  @ClusterMessage('gated')
  async gated(): Promise<string> {
    GatedHandlers.started++;
    await new Promise<void>((resolve) => (GatedHandlers.release = resolve));
    return 'finished';
  }
}

afterAll(closeStartedNodes);

describe('graceful shutdown (ShutdownService.decommission, what SIGTERM runs)', () => {
  let a: TestNode;
  let b: TestNode;
  const seenOfA: string[] = [];
  const gossip = { intervalMs: 100 };
  beforeAll(async () => {
    a = await startTrackedNode('drain-a', { gossip, shutdown: { drainTimeoutMs: 5000 } }, [GatedHandlers]);
    b = await startTrackedNode('drain-b', { gossip, seeds: [a.address] });
    b.app.get(GossipService).events$.subscribe((e) => {
      if (e.nodeId === 'drain-a') seenOfA.push(e.type);
    });
    await until('b sees a up', () => b.app.get(GossipService).member('drain-a')?.status === 'up', 20_000, 20);
  });

  it('refuses new calls with NodeDrainingError, lets the call in flight finish, then leaves: peers see left, never down', async () => {
    const inFlight = firstValueFrom(b.client.send('drain-a', 'gated', null));
    await until('the call running at a', () => GatedHandlers.started === 1, 10_000, 10);
    const shutdown = a.app.get(ShutdownService);
    const done = shutdown.decommission();
    expect(shutdown.isDraining).toBe(true);

    const refused = await firstValueFrom(b.client.send('drain-a', 'gated', null)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NodeDrainingError);
    expect(refused).toBeInstanceOf(NodeUnavailableError); // callers that retry elsewhere on unavailable need no change
    expect(GatedHandlers.started).toBe(1); // the refused call never ran

    GatedHandlers.release!();
    expect(await inFlight).toBe('finished');
    const report = await done;
    expect(report).toMatchObject({ cause: 'call', abandonedCalls: 0 });
    await until('b sees a left', () => b.app.get(GossipService).member('drain-a')?.status === 'left', 20_000, 20);
    expect(seenOfA).toContain('left');
    expect(seenOfA).not.toContain('down');
  });
});

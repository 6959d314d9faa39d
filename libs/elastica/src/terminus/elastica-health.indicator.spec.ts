import { describe, expect, it } from '@jest/globals';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { GossipService } from '../gossip/gossip.service.js';
import type { Member } from '../gossip/gossip.types.js';
import type { PartitionerService } from '../ring/partitioner.service.js';
import { TOKENS_KEY } from '../ring/token-codec.js';
import { ElasticaHealthIndicator } from './elastica-health.indicator.js';

function member(id: string, status: Member['status'], tokens = 'x'): Member {
  return {
    id,
    address: `${id}:7000`,
    status,
    generation: 1,
    heartbeat: 1,
    state: tokens ? { [TOKENS_KEY]: tokens } : {},
  };
}

function indicator(members: Member[], partitioner: Partial<PartitionerService>): ElasticaHealthIndicator {
  const gossip = {
    localNodeId: 'a',
    members: () => members,
    member: (id: string) => members.find((m) => m.id === id),
  } as unknown as GossipService;
  return new ElasticaHealthIndicator(new HealthIndicatorService(), gossip, partitioner as PartitionerService);
}

const settled = {
  isReady: true,
  tokenPhase: 'settled' as const,
  handoffInProgress: false,
  version: 3,
  ring: { nodeIds: ['a', 'b'] } as unknown as PartitionerService['ring'],
};

describe('ElasticaHealthIndicator', () => {
  it('joined: down while this node is joining, up once it is up', () => {
    expect(indicator([member('a', 'joining')], settled).isJoined('c').c.status).toBe('down');
    expect(indicator([member('a', 'up')], settled).isJoined('c').c).toMatchObject({ status: 'up', node: 'a' });
  });

  it('ready: down until the tokens are settled and the ring has every up member that published tokens', () => {
    const up = [member('a', 'up'), member('b', 'up')];
    expect(indicator(up, { ...settled, isReady: false, tokenPhase: 'provisional' }).isReady('r').r).toMatchObject({
      status: 'down',
      reason: 'tokens provisional, ring not built yet',
    });
    expect(indicator([...up, member('c', 'up')], settled).isReady('r').r).toMatchObject({
      status: 'down',
      reason: 'the ring lacks c',
    });
    // A member still joining (no tokens yet) is not expected in the ring.
    expect(indicator([...up, member('c', 'joining', '')], settled).isReady('r').r.status).toBe('up');
  });

  it('safe to stop: down while a member joins or leaves, or the application reports a handoff', () => {
    const up = [member('a', 'up'), member('b', 'up')];
    expect(indicator(up, settled).isSafeToStop('s').s.status).toBe('up');
    expect(indicator([...up, member('c', 'leaving')], settled).isSafeToStop('s').s).toMatchObject({
      status: 'down',
      reason: 'c is leaving',
    });
    expect(indicator(up, { ...settled, handoffInProgress: true }).isSafeToStop('s').s).toMatchObject({
      status: 'down',
      reason: 'a handoff is in progress',
    });
  });
});

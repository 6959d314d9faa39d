import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { statusOf, type KvCluster } from './harness/kv-cluster.js';
import { always } from '../support/always.js';
import { recordTiming } from './harness/artifacts.js';
import { describeChaos } from './harness/preflight.js';
import { DEADLINE, SETUP_TIMEOUT, generationOf, others, sees, startConvergedCluster } from './harness/scenario.js';

// A one-way partition: nobody is marked up on third-party gossip alone. Marking a node up needs a
// direct round trip with it (Cassandra's echo); a newer heartbeat relayed by others is not enough.
//
// The victim V restarts (a new generation everybody learns of through gossip) while two observers
// have a one-way cut with it: packets V → BLIND are dropped, and packets MUTE → V are dropped. TCP
// then fails both ways for each pair (its handshake needs both directions), but gossip still
// carries V's new state to them through the relays. So BLIND and MUTE hear of V only third-hand, and
// V hears of them only third-hand.
const SUITE = 'one-way';
const V = 4;
const BLIND = 1;
const MUTE = 2;
const RELAYS = [0, 3];

describeChaos('chaos: a one-way partition', () => {
  let cluster: KvCluster;
  beforeAll(async () => {
    cluster = await startConvergedCluster({ suite: SUITE, suiteId: 3, nodes: 5 });
  }, SETUP_TIMEOUT);
  afterAll(async () => cluster?.destroy(), 60_000);

  it('marks nobody up on third-party gossip alone, and everyone up once the link heals', async () => {
    cluster.oneWay(V, BLIND);
    cluster.oneWay(MUTE, V);
    const before = await cluster.view(RELAYS[0]);
    const oldGeneration = generationOf(cluster, before, V)!;

    await cluster.nodes[V].stop();
    await cluster.waitForViews(
      'everyone marks the killed node down',
      others(cluster, V),
      (v) => sees(cluster, v, [V], 'down'),
      DEADLINE.detect,
    );
    await cluster.startAgain(V);
    const restarted = Date.now();

    // The relays talk to V directly: they mark it up, with its new generation.
    await cluster.waitForViews(
      'the relays mark V up with a new generation',
      RELAYS,
      (v) => sees(cluster, v, [V], 'up') && generationOf(cluster, v, V)! > oldGeneration,
      DEADLINE.recover,
    );
    // BLIND and MUTE learn V's new generation, through the relays only ...
    await cluster.waitForViews(
      "the cut observers learn V's new generation third-hand",
      [BLIND, MUTE],
      (v) => generationOf(cluster, v, V)! > oldGeneration,
      DEADLINE.recover,
    );
    await cluster.waitForViews(
      'V marks the relays up (it talks to them directly)',
      [V],
      (v) => sees(cluster, v, RELAYS, 'up'),
      DEADLINE.recover,
    );
    recordTiming(SUITE, 'restart_to_third_hand_news', Date.now() - restarted);
    // ... and V learns of them the same way; yet for ten gossip rounds none marks the other up.
    await always('no one-way-cut pair marks the other up', { samples: 20, intervalMs: 500 }, async () => {
      for (const observer of [BLIND, MUTE]) {
        const status = statusOf(await cluster.view(observer), cluster.ids[V]);
        if (status === 'up') return `node ${observer} marked V up with no direct round trip`;
      }
      const fromV = await cluster.view(V);
      for (const peer of [BLIND, MUTE])
        if (statusOf(fromV, cluster.ids[peer]) === 'up') return `V marked node ${peer} up with no direct round trip`;
      if (!sees(cluster, fromV, RELAYS, 'up'))
        return `V does not see the relays up: ${JSON.stringify(fromV.members.map((m) => [m.id, m.status]))}`;
      return true;
    });

    cluster.heal();
    const healed = Date.now();
    await cluster.waitForViews(
      'everyone up everywhere after healing',
      cluster.indexes(),
      (v) => sees(cluster, v, cluster.indexes(), 'up'),
      DEADLINE.recover,
    );
    recordTiming(SUITE, 'heal_to_all_up', Date.now() - healed);
    expect(cluster.crashes()).toEqual([]);
  }, 300_000);
});

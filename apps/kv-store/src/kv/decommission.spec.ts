import { describe, expect, it } from '@jest/globals';
import { DEFAULT_KV_OPTIONS, type KvNodeOptions } from '../replication/kv-node.js';
import { InMemoryCluster } from '../replication/testing/in-memory-cluster.js';
import { runDecommission, type DecommissionSteps } from './decommission.js';

const OPTIONS: KvNodeOptions = { ...DEFAULT_KV_OPTIONS, orphanGraceMs: 0 };
const REFUSING: KvNodeOptions = { ...OPTIONS, storage: { maxKeys: 0, maxBytes: 1e6 } };
const KEYS = Array.from({ length: 60 }, (_, i) => `key-${i}`);
const POLICY = { attempts: 3, retryDelayMs: 1000 };

/** A four-node cluster holding KEYS; `c` is the node that leaves. */
async function scene() {
  const c = new InMemoryCluster(3, OPTIONS);
  for (const id of ['a', 'b', 'c', 'd']) c.add(id);
  for (const key of KEYS) await c.node('a').write(key, `value of ${key}`);
  await new Promise((resolve) => setImmediate(resolve));
  const record = { left: 0, pauses: 0, logs: [] as string[] };
  const steps = (hooks: { onPause?: () => void; onLeave?: () => void } = {}): DecommissionSteps => ({
    handOff: () => c.node('c').handOffAll(),
    leave: () => {
      record.left++;
      hooks.onLeave?.();
      return Promise.resolve();
    },
    pause: () => {
      record.pauses++;
      hooks.onPause?.();
      return Promise.resolve();
    },
    log: (level, message) => record.logs.push(`${level}: ${message}`),
  });
  return { c, record, steps };
}

describe('runDecommission', () => {
  it('leaves once every copy is acknowledged', async () => {
    const { c, record, steps } = await scene();
    const outcome = await runDecommission(steps(), POLICY);
    expect(outcome.status).toBe('left');
    expect(outcome.handoff.complete).toBe(true);
    expect(record).toMatchObject({ left: 1, pauses: 0 });
    c.remove('c');
    for (const key of KEYS) expect(c.holders(key).length).toBe(3);
  });

  it('does not leave when a target keeps refusing copies: it retries, then aborts and says so', async () => {
    const { c, record, steps } = await scene();
    c.start('d', REFUSING); // d restarted with a store that takes nothing
    const outcome = await runDecommission(steps(), POLICY);
    expect(outcome.status).toBe('aborted');
    expect(outcome.handoff).toMatchObject({ complete: false, failedTargets: ['d'] });
    expect(outcome.handoff.undelivered).toBeGreaterThan(0);
    expect(record).toMatchObject({ left: 0, pauses: POLICY.attempts - 1 });
    expect(record.logs.at(-1)).toMatch(
      /^error: decommission aborted after 3 handoff passes: .*d failed or refused them.*did NOT leave the cluster/,
    );
    expect(c.node('c').storage.size).toBeGreaterThan(0); // nothing dropped
  });

  it('leaves after a retry once the target has room', async () => {
    const { c, record, steps } = await scene();
    c.start('d', REFUSING);
    const outcome = await runDecommission(steps({ onPause: () => c.start('d') }), POLICY);
    expect(outcome.status).toBe('left');
    expect(record).toMatchObject({ left: 1, pauses: 1 });
  });

  it('a final pass that cannot hand everything over after leaving ends as left-incomplete (exit 1)', async () => {
    const { record, steps, c } = await scene();
    const outcome = await runDecommission(steps({ onLeave: () => c.start('d', REFUSING) }), POLICY);
    expect(outcome.status).toBe('left-incomplete');
    expect(record.left).toBe(1);
    expect(record.logs.at(-1)).toMatch(
      /^error: decommission: left the cluster, but the final handoff pass is incomplete: .*exiting with code 1/,
    );
  });
});

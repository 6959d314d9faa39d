import { describe, expect, it } from '@jest/globals';
import { DEFAULT_FAILURE_DETECTOR } from '../options/defaults.js';
import { LocalPauseGuard } from './local-pause-guard.js';
import { PeerFailureDetectors } from './peer-failure-detectors.js';

describe('PeerFailureDetectors', () => {
  it("resets a peer's history when its generation grows, and ignores heartbeats of an older run", () => {
    const peers = new PeerFailureDetectors(DEFAULT_FAILURE_DETECTOR);
    for (let t = 0; t <= 10_000; t += 1000) peers.heartbeat('a', 1, t);
    expect(peers.snapshot('a', 10_000)!.samples).toBe(12);
    peers.heartbeat('a', 2, 11_000);
    expect(peers.snapshot('a', 11_000)!.samples).toBe(2);
    peers.heartbeat('a', 1, 12_000);
    expect(peers.snapshot('a', 12_000)!.lastHeartbeatMs).toBe(11_000);
  });

  it('reports threshold crossings either way, once each', () => {
    const peers = new PeerFailureDetectors(DEFAULT_FAILURE_DETECTOR);
    for (let t = 0; t <= 10_000; t += 1000) peers.heartbeat('a', 1, t);
    expect(peers.sweep(11_000)).toEqual([]);
    const down = peers.sweep(30_000);
    expect(down.map((c) => [c.type, c.nodeId])).toEqual([['unavailable', 'a']]);
    expect(peers.sweep(31_000)).toEqual([]);
    peers.heartbeat('a', 1, 32_000);
    expect(peers.sweep(32_000).map((c) => c.type)).toEqual(['available']);
  });

  it('convicts nobody while muted by the local-pause guard, but lets recoveries through', () => {
    const peers = new PeerFailureDetectors(DEFAULT_FAILURE_DETECTOR);
    const guard = new LocalPauseGuard(5000);
    for (let t = 0; t <= 10_000; t += 1000) peers.heartbeat('a', 1, t);
    expect(guard.observe(20_000, 30_000)).toBe(true);
    expect(peers.sweep(30_000, guard.mayConvict(30_000))).toEqual([]);
    expect(guard.mayConvict(49_999)).toBe(false);
    expect(guard.mayConvict(50_000)).toBe(true);
    expect(peers.sweep(50_000, guard.mayConvict(50_000)).map((c) => c.type)).toEqual(['unavailable']);
  });

  it('does not count a stall within the bound as a pause', () => {
    const guard = new LocalPauseGuard(5000);
    expect(guard.observe(4999, 0)).toBe(false);
    expect(guard.mayConvict(0)).toBe(true);
  });
});

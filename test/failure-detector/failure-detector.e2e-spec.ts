import 'reflect-metadata';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import type { AvailabilityChange } from 'elastica';
import { ElasticaModule, FailureDetectorService } from 'elastica';
import { until } from '../support/until.js';

/** Blocks this thread's event loop for `ms`, as a long GC pause or a CPU-bound handler would. */
function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('FailureDetectorService', () => {
  let moduleRef: TestingModule | undefined;
  afterEach(async () => moduleRef?.close());

  async function start(): Promise<FailureDetectorService> {
    moduleRef = await Test.createTestingModule({
      imports: [
        ElasticaModule.forRoot({
          nodeId: 'fd-test',
          bind: { host: '127.0.0.1', port: 0 },
          gossip: { intervalMs: 50 },
          failureDetector: {
            firstHeartbeatEstimateMs: 50,
            acceptableHeartbeatPauseMs: 0,
            minStdDeviationMs: 10,
            maxIntervalMs: 200,
            localPauseMs: 300,
          },
        }),
      ],
    }).compile();
    await moduleRef.init();
    return moduleRef.get(FailureDetectorService);
  }

  it('convicts a silent peer and reports the crossing as an event', async () => {
    const fd = await start();
    const events: AvailabilityChange[] = [];
    fd.events$.subscribe((e) => events.push(e));
    fd.heartbeat('peer', 1);
    expect(fd.isAvailable('peer')).toBe(true);
    await until(
      'the peer convicted, as an event',
      () => events.some((e) => e.type === 'unavailable' && e.nodeId === 'peer'),
      20_000,
      10,
    );
    expect(fd.isAvailable('peer')).toBe(false);
    expect(fd.phi('peer')).toBeGreaterThanOrEqual(fd.threshold);
    fd.heartbeat('peer', 1);
    await until('the peer available again', () => events.some((e) => e.type === 'available'), 20_000, 10);
  });

  it('convicts nobody after its own event loop was blocked: the silence was its own', async () => {
    const fd = await start();
    const events: AvailabilityChange[] = [];
    fd.events$.subscribe((e) => events.push(e));
    // A peer heartbeating steadily, as gossip would report it.
    let beat = setInterval(() => fd.heartbeat('peer', 1), 50);
    try {
      await until(
        'more than five heartbeat samples of the peer',
        () => fd.snapshot('peer') !== undefined && fd.snapshot('peer')!.samples > 5,
        20_000,
        10,
      );
      // The stall also stops the peer's heartbeats from being processed, as it would for real.
      clearInterval(beat);
      blockEventLoop(1500);
      await until('the stall noticed as a local pause', () => fd.localPauses >= 1, 20_000, 10);
      // phi is far past the threshold, yet the node must not convict: the silence was its own.
      expect(fd.phi('peer')).toBeGreaterThanOrEqual(fd.threshold);
      expect(fd.isMuted()).toBe(true);
      expect(fd.isAvailable('peer')).toBe(true);
      // The queued heartbeats get through once the loop runs again.
      beat = setInterval(() => fd.heartbeat('peer', 1), 50);
      await until('the detector unmuted', () => !fd.isMuted(), 20_000, 10);
      expect(fd.isAvailable('peer')).toBe(true);
      expect(events.filter((e) => e.type === 'unavailable')).toEqual([]);
    } finally {
      clearInterval(beat);
    }
  });
});

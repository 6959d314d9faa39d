import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { ElasticaOptions, ResolvedElasticaOptions } from '../options/elastica-options.js';
import { ElasticaModule } from './elastica.module.js';
import { ELASTICA_OPTIONS } from '../elastica.constants.js';
import { FailureDetectorService } from '../failure-detector/failure-detector.service.js';

async function compileSync(options: ElasticaOptions) {
  const moduleRef = await Test.createTestingModule({ imports: [ElasticaModule.forRoot(options)] }).compile();
  return moduleRef;
}

async function compileAsync(options: ElasticaOptions) {
  @Module({ providers: [{ provide: 'CFG', useValue: options }], exports: ['CFG'] })
  class ConfigModule {}
  return Test.createTestingModule({
    imports: [
      ElasticaModule.forRootAsync({
        imports: [ConfigModule],
        inject: ['CFG'],
        useFactory: (cfg: ElasticaOptions) => cfg,
      }),
    ],
  }).compile();
}

const BAD: [string, ElasticaOptions, RegExp][] = [
  ['a port out of range', { bind: { port: 70000 } }, /`bind\.port`.*65535.*70000/],
  ['a negative port', { bind: { port: -1 } }, /`bind\.port`/],
  ['a seed that is not host:port', { seeds: ['10.0.0.1'] }, /`seeds\[0\]`.*host:port/],
  ['a seed with a bad port', { seeds: ['a:1', 'b:0'] }, /`seeds\[1\]`.*port/],
  ['seeds that are not an array', { seeds: '10.0.0.1:7000' as unknown as string[] }, /`seeds`.*array/],
  ['0.0.0.0 as an advertised host', { bind: { host: '0.0.0.0', port: 7000 } }, /`advertise`.*0\.0\.0\.0/],
  ['0.0.0.0 given as advertise.host', { advertise: { host: '0.0.0.0' } }, /`advertise\.host`.*0\.0\.0\.0/],
  ['an invalid host name', { bind: { host: 'not a host!' } }, /`bind\.host`.*not a valid host/],
  [
    'a threshold that is not a positive number',
    { failureDetector: { threshold: -1 } },
    /`failureDetector\.threshold`.*positive number.*-1/,
  ],
  [
    'a threshold that is not a number at all',
    { failureDetector: { threshold: 'high' as unknown as number } },
    /`failureDetector\.threshold`.*"high"/,
  ],
  [
    'an unknown distribution',
    { failureDetector: { distribution: 'poisson' as 'normal' } },
    /`failureDetector\.distribution`.*'normal' or 'exponential'.*"poisson"/,
  ],
  ['an unknown tuning key', { gossip: { intervallMs: 5 } as object }, /`gossip\.intervallMs`.*unknown option/],
  ['an unknown top-level key', { seed: ['a:1'] } as ElasticaOptions, /`seed`.*unknown option/],
  ['a zero gossip interval', { gossip: { intervalMs: 0 } }, /`gossip\.intervalMs`.*positive/],
  ['a tiny MTU', { gossip: { mtuBytes: 100 } }, /`gossip\.mtuBytes`.*512/],
  ['a fractional vnode count', { partitioner: { vnodes: 1.5 } }, /`partitioner\.vnodes`.*integer/],
  [
    'restored tokens that are not tokens',
    { partitioner: { restoreTokens: [1, -2] } },
    /`partitioner\.restoreTokens`.*\[0, 2\^32\)/,
  ],
  ['restored tokens twice over', { partitioner: { restoreTokens: [7, 7] } }, /`partitioner\.restoreTokens`.*distinct/],
  ['no restored tokens', { partitioner: { restoreTokens: [] } }, /`partitioner\.restoreTokens`.*1 to 4096/],
  ['an empty secret', { secret: '' }, /`secret`.*non-empty/],
  ['an empty cluster name', { cluster: ' ' }, /`cluster`.*non-empty/],
  ['a tiny frame limit', { rpc: { maxFrameBytes: 10 } }, /`rpc\.maxFrameBytes`/],
  ['incomplete TLS material', { tls: { key: 'k', cert: 'c' } as never }, /`tls\.ca`/],
  ['TLS material that is not PEM', { tls: { key: 'k', cert: 'c', ca: 'a' } }, /`tls`.*TLS context/],
  [
    'an unknown TLS option',
    { tls: { key: 'k', cert: 'c', ca: 'a', verify: true } as never },
    /`tls\.verify`.*unknown option/,
  ],
  [
    'a node-id binding that is not a boolean',
    { tls: { key: 'k', cert: 'c', ca: 'a', nodeIdInCertificate: 'yes' as never } },
    /`tls\.nodeIdInCertificate`.*true or false/,
  ],
  [
    'a detector cap shorter than two gossip intervals',
    { gossip: { intervalMs: 5000 }, failureDetector: { maxIntervalMs: 4000 } },
    /`failureDetector\.maxIntervalMs`.*2 x gossip\.intervalMs \(10000\)/,
  ],
  ['a state bound too small to hold anything', { gossip: { maxStateBytes: 100 } }, /`gossip\.maxStateBytes`.*4096/],
  ['a membership bound of one', { gossip: { maxMembers: 1 } }, /`gossip\.maxMembers`.*at least 2/],
  [
    'no room for a single handshake',
    { rpc: { maxPendingHandshakes: 0 } },
    /`rpc\.maxPendingHandshakes`.*positive integer/,
  ],
];

describe('ElasticaModule options', () => {
  it('applies documented defaults', async () => {
    const moduleRef = await compileSync({ seeds: ['127.0.0.1:7000'] });
    const options = moduleRef.get<ResolvedElasticaOptions>(ELASTICA_OPTIONS);
    expect(options.cluster).toBe('elastica');
    expect(options.bind).toEqual({ host: '127.0.0.1', port: 7000 });
    expect(options.advertise).toEqual(options.bind);
    expect(options.nodeId).toBe('127.0.0.1:7000');
    expect(options.failureDetector.threshold).toBe(8);
    expect(options.failureDetector.distribution).toBe('normal');
    expect(options.partitioner.replicationFactor).toBe(3);
    expect(options.rpc.maxPendingHandshakes).toBe(1024);
    expect(moduleRef.get(FailureDetectorService).threshold).toBe(8);
  });

  it("derives the detector's expected interval and outage cap from the gossip interval, unless given", async () => {
    const slow = (await compileSync({ gossip: { intervalMs: 5000 } })).get<ResolvedElasticaOptions>(ELASTICA_OPTIONS);
    expect(slow.failureDetector.firstHeartbeatEstimateMs).toBe(5000);
    expect(slow.failureDetector.maxIntervalMs).toBe(20_000);
    const given = (
      await compileAsync({ gossip: { intervalMs: 5000 }, failureDetector: { firstHeartbeatEstimateMs: 6000 } })
    ).get<ResolvedElasticaOptions>(ELASTICA_OPTIONS);
    expect(given.failureDetector.maxIntervalMs).toBe(24_000);
    const defaults = (await compileSync({})).get<ResolvedElasticaOptions>(ELASTICA_OPTIONS);
    expect(defaults.failureDetector.firstHeartbeatEstimateMs).toBe(1000);
    expect(defaults.failureDetector.maxIntervalMs).toBe(4000);
    expect(defaults.gossip.maxStateBytes).toBe(65_536);
    expect(defaults.gossip.maxMembers).toBe(5000);
  });

  it('separates bind from advertise', async () => {
    const moduleRef = await compileAsync({ bind: { host: '0.0.0.0', port: 7100 }, advertise: { host: '203.0.113.7' } });
    const options = moduleRef.get<ResolvedElasticaOptions>(ELASTICA_OPTIONS);
    expect(options.bind).toEqual({ host: '0.0.0.0', port: 7100 });
    expect(options.advertise).toEqual({ host: '203.0.113.7', port: 7100 });
    expect(options.nodeId).toBe('203.0.113.7:7100');
  });

  for (const [kind, options, message] of BAD) {
    it(`refuses ${kind}, the same way in forRoot and forRootAsync`, async () => {
      await expect(compileSync(options)).rejects.toThrow(message);
      await expect(compileAsync(options)).rejects.toThrow(message);
    });
  }
});

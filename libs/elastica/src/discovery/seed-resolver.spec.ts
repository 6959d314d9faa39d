import { describe, expect, it } from '@jest/globals';
import { resolveOptions } from '../options/resolve-options.js';
import { SeedResolver, type SeedLookups } from './seed-resolver.js';
import { parseSeedSource, type SeedSource } from './seed-source.js';

const fail = (code: string) => Promise.reject(Object.assign(new Error(`query failed: ${code}`), { code }));

/** A DNS stand-in: what each name answers, switchable between rounds. */
function zone(records: {
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
  srv?: Record<string, { name: string; port: number }[]>;
  hosts?: Record<string, string[]>;
  down?: boolean;
  hang?: boolean;
}): () => SeedLookups {
  const answer = <T>(table: Record<string, T> | undefined, name: string): Promise<T> =>
    records.hang
      ? new Promise<T>(() => {})
      : records.down
        ? fail('ECONNREFUSED')
        : table?.[name] !== undefined
          ? Promise.resolve(table[name])
          : fail('ENOTFOUND');
  return () => ({
    lookupAll: (host) => answer(records.hosts, host),
    resolve4: (host) => answer(records.a, host),
    resolve6: (host) => (records.aaaa?.[host] ? answer(records.aaaa, host) : fail('ENODATA')),
    resolveSrv: (name) => answer(records.srv, name),
  });
}

const sources = (...entries: unknown[]): SeedSource[] => entries.map((e, i) => parseSeedSource(`seeds[${i}]`, e));

describe('seed entries', () => {
  it('parses host:port, dns:, srv: and providers, and names what is wrong with a bad one', () => {
    const provider = { resolve: () => Promise.resolve(['10.0.0.1:7000']) };
    expect(
      sources('10.0.0.1:7000', 'kv-0.kv:7000', 'dns:kv.default.svc:7000', 'srv:_cluster._tcp.kv', provider).map(
        (s) => s.kind,
      ),
    ).toEqual(['address', 'name', 'dns', 'srv', 'provider']);
    expect(() => resolveOptions({ seeds: ['dns:kv'] })).toThrow(/seeds\[0\].*dns:NAME:PORT/);
    expect(() => resolveOptions({ seeds: ['srv:kv.default'] })).toThrow(/seeds\[0\].*srv:_service._proto.NAME/);
    expect(() => resolveOptions({ seeds: [42 as unknown as string] })).toThrow(/seeds\[0\].*resolve\(\)/);
    const resolved = resolveOptions({ seeds: ['dns:kv:7000', '10.0.0.1:7000'] });
    expect(resolved.discovered).toBe(true);
    expect(resolved.seeds).toEqual([{ host: '10.0.0.1', port: 7000 }]);
    expect(resolveOptions({ seeds: ['kv-0.kv:7000'] }).discovered).toBe(false);
  });
});

describe('SeedResolver', () => {
  it('gives every A and AAAA record of a dns: seed, the targets of SRV records, and what a provider gives', async () => {
    const notices: string[] = [];
    const resolver = new SeedResolver(
      sources('dns:kv:7000', 'srv:_c._tcp.kv', { resolve: () => Promise.resolve(['10.0.0.9:7001', 'app.local:7002']) }),
      100,
      zone({
        a: { kv: ['10.0.0.1', '10.0.0.2'] },
        aaaa: { kv: ['fd00::1'] },
        srv: { '_c._tcp.kv': [{ name: 'kv-0.kv', port: 7100 }] },
        hosts: { 'kv-0.kv': ['10.0.0.3'], 'app.local': ['10.0.0.4'] },
      }),
      (_, m) => notices.push(m),
    );
    expect((await resolver.resolve()).addresses).toEqual([
      '10.0.0.1:7000',
      '10.0.0.2:7000',
      '[fd00::1]:7000',
      '10.0.0.3:7100',
      '10.0.0.9:7001',
      '10.0.0.4:7002',
    ]);
    expect(notices).toEqual([]);
  });

  it('tells a failure once per cause, and once more when the seed resolves again', async () => {
    const notices: string[] = [];
    let records: Parameters<typeof zone>[0] = { down: true };
    const resolver = new SeedResolver(
      sources('dns:kv:7000'),
      50,
      () => zone(records)(),
      (level, m) => notices.push(`${level} ${m}`),
    );
    for (let i = 0; i < 3; i++) expect(await resolver.resolve()).toEqual({ addresses: [], failed: 1 });
    records = { hang: true };
    expect(await resolver.resolve()).toEqual({ addresses: [], failed: 1 });
    records = { a: { kv: ['10.0.0.1'] } };
    expect(await resolver.resolve()).toEqual({ addresses: ['10.0.0.1:7000'], failed: 0 });
    await resolver.resolve();
    expect(notices).toEqual([
      expect.stringMatching(/^warn seed dns:kv:7000 could not be looked up: ECONNREFUSED/),
      expect.stringMatching(/^warn seed dns:kv:7000 could not be looked up: ETIMEOUT .*longer than 100 ms/),
      'log seed dns:kv:7000 resolves again: 10.0.0.1:7000',
    ]);
  });

  it('a provider that throws or gives nonsense is a failed lookup, never a crash', async () => {
    const notices: string[] = [];
    const resolver = new SeedResolver(
      sources(
        { resolve: () => Promise.reject(new Error('registry down')) },
        { resolve: () => Promise.resolve(['no port']) },
      ),
      50,
      zone({}),
      (_, m) => notices.push(m),
    );
    expect(await resolver.resolve()).toEqual({ addresses: [], failed: 2 });
    expect(notices).toEqual([
      expect.stringMatching(/registry down/),
      expect.stringMatching(/not of the form host:port/),
    ]);
  });
});

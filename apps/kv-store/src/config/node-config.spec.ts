import { resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ElasticaOptionsError } from 'elastica';
import { resolveOptions } from 'elastica/testing';
import { ConfigError, elasticaOptionsOf, parseNodeConfig, USAGE } from './node-config.js';

// The contract's command line (§2): --port --http --seeds [--host] [--advertise-host] [--secret]
// [--cluster], each also an ELASTICA_* environment variable; --node-id is this app's addition.
const FLAGS: { flag: string; env: string; value: string; field: string; parsed: unknown }[] = [
  { flag: '--port', env: 'ELASTICA_PORT', value: '7100', field: 'port', parsed: 7100 },
  { flag: '--http', env: 'ELASTICA_HTTP', value: '8100', field: 'http', parsed: 8100 },
  {
    flag: '--seeds',
    env: 'ELASTICA_SEEDS',
    value: '10.0.0.1:7000,10.0.0.2:7000',
    field: 'seeds',
    parsed: ['10.0.0.1:7000', '10.0.0.2:7000'],
  },
  { flag: '--host', env: 'ELASTICA_HOST', value: '0.0.0.0', field: 'host', parsed: '0.0.0.0' },
  {
    flag: '--advertise-host',
    env: 'ELASTICA_ADVERTISE_HOST',
    value: '203.0.113.7',
    field: 'advertiseHost',
    parsed: '203.0.113.7',
  },
  { flag: '--secret', env: 'ELASTICA_SECRET', value: 's3cret', field: 'secret', parsed: 's3cret' },
  { flag: '--cluster', env: 'ELASTICA_CLUSTER', value: 'orders', field: 'cluster', parsed: 'orders' },
  { flag: '--node-id', env: 'ELASTICA_NODE_ID', value: 'node-a', field: 'nodeId', parsed: 'node-a' },
  { flag: '--data-dir', env: 'ELASTICA_DATA_DIR', value: '/var/lib/kv', field: 'dataDir', parsed: '/var/lib/kv' },
  { flag: '--storage', env: 'ELASTICA_STORAGE', value: 'memory', field: 'storage', parsed: 'memory' },
];

/** The options Elastica resolves from a command line and environment, as the app passes them. */
const resolved = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
  resolveOptions(elasticaOptionsOf(parseNodeConfig(argv, env)));

describe('parseNodeConfig: every flag and its environment variable', () => {
  it('has defaults for everything: a lone node on 127.0.0.1, cluster port 7001, HTTP 8001', () => {
    expect(parseNodeConfig([], {})).toEqual({
      port: 7001,
      http: 8001,
      seeds: [],
      host: '127.0.0.1',
      advertiseHost: undefined,
      secret: undefined,
      cluster: 'kv-store',
      nodeId: undefined,
      dataDir: resolve('data/node-7001'),
      storage: 'lmdb',
    });
    expect(parseNodeConfig(['--port', '7002'], {}).dataDir).toBe(resolve('data/node-7002'));
    expect(() => parseNodeConfig(['--storage', 'disk'], {})).toThrow(
      /--storage \(or ELASTICA_STORAGE\) must be lmdb or memory/,
    );
  });

  it.each(FLAGS)('$flag sets $field, and so does $env', ({ flag, env, value, field, parsed }) => {
    expect(parseNodeConfig([flag, value], {})).toMatchObject({ [field]: parsed });
    expect(parseNodeConfig([`${flag}=${value}`], {})).toMatchObject({ [field]: parsed });
    expect(parseNodeConfig([], { [env]: value })).toMatchObject({ [field]: parsed });
  });

  it.each(FLAGS)('$flag wins over $env', ({ flag, env, value, field, parsed }) => {
    const other = field === 'port' || field === 'http' ? '9999' : field === 'seeds' ? '192.0.2.1:1' : 'other';
    expect(parseNodeConfig([flag, value], { [env]: other })).toMatchObject({ [field]: parsed });
  });

  it('names every environment variable in the usage text', () => {
    for (const { flag, env } of FLAGS) expect(USAGE).toContain(`${flag} ${env}`);
  });

  it('reads the whole contract command line into the options Elastica gets', () => {
    const options = resolved([
      '--port',
      '7001',
      '--http',
      '8001',
      '--seeds',
      '127.0.0.1:7001',
      '--host',
      '0.0.0.0',
      '--advertise-host',
      '10.1.2.3',
      '--secret',
      'S',
      '--cluster',
      'orders',
    ]);
    expect(options).toMatchObject({
      cluster: 'orders',
      bind: { host: '0.0.0.0', port: 7001 },
      advertise: { host: '10.1.2.3', port: 7001 },
      seeds: [{ host: '127.0.0.1', port: 7001 }],
      secret: 'S',
      nodeId: '10.1.2.3:7001',
    });
    // From the environment alone, the same.
    expect(
      resolved([], {
        ELASTICA_PORT: '7001',
        ELASTICA_SEEDS: '127.0.0.1:7001',
        ELASTICA_HOST: '0.0.0.0',
        ELASTICA_ADVERTISE_HOST: '10.1.2.3',
        ELASTICA_SECRET: 'S',
        ELASTICA_CLUSTER: 'orders',
      }),
    ).toEqual(options);
  });

  it('splits seeds on commas, trimming blanks and dropping empty entries', () => {
    expect(parseNodeConfig(['--seeds', ' a:1 , ,b:2,'], {}).seeds).toEqual(['a:1', 'b:2']);
    expect(parseNodeConfig(['--seeds', ''], {}).seeds).toEqual([]);
  });
});

describe('parseNodeConfig: bad values fail with a message naming the flag', () => {
  it.each([
    ['--port', 'ELASTICA_PORT', 'abc'],
    ['--port', 'ELASTICA_PORT', '70.1'],
    ['--port', 'ELASTICA_PORT', '-1'],
    ['--port', 'ELASTICA_PORT', '0'],
    ['--port', 'ELASTICA_PORT', '65536'],
    ['--port', 'ELASTICA_PORT', ''],
    ['--http', 'ELASTICA_HTTP', 'eighty'],
    ['--http', 'ELASTICA_HTTP', '99999'],
    ['--http', 'ELASTICA_HTTP', '0'],
  ])('%s (or %s) %j', (flag, env, bad) => {
    const message = `${flag} (or ${env}) must be a port from 1 to 65535, got ${JSON.stringify(bad)}`;
    expect(() => parseNodeConfig([`${flag}=${bad}`], {})).toThrow(new ConfigError(message));
    expect(() => parseNodeConfig([], { [env]: bad })).toThrow(message);
  });

  it('accepts the ends of the port range', () => {
    expect(parseNodeConfig(['--port', '1', '--http', '65535'], {})).toMatchObject({ port: 1, http: 65535 });
  });

  it('refuses an unknown flag, a flag without its value, and stray arguments', () => {
    expect(() => parseNodeConfig(['--prot', '7001'], {})).toThrow(/Unknown option '--prot'/);
    expect(() => parseNodeConfig(['--port'], {})).toThrow(/--port <value>' argument missing/);
    expect(() => parseNodeConfig(['--port', '7001', 'extra'], {})).toThrow(/Unexpected argument 'extra'/);
  });

  // Hosts, seeds, secret and cluster are Elastica's to check: the node fails at start-up with one
  // message naming the option and the bad value.
  it.each([
    ['--seeds', ['--seeds', '10.0.0.1'], /`seeds\[0\]`: "10.0.0.1" is not of the form host:port/],
    ['--seeds', ['--seeds', '10.0.0.1:7000,10.0.0.2:x'], /`seeds\[1\]`: "10.0.0.2:x" is not of the form host:port/],
    ['--seeds', ['--seeds', 'bad_host:7000'], /`seeds\[0\]`: "bad_host" is not a valid host name or IP address/],
    ['--seeds', ['--seeds', '10.0.0.1:70000'], /`seeds\[0\]`: expected an integer port from 1 to 65535, got 70000/],
    ['--host', ['--host', 'not a host'], /`bind.host`: "not a host" is not a valid host name or IP address/],
    ['--host', ['--host', '0.0.0.0'], /`advertise`: 0.0.0.0 means "every interface"/],
    ['--advertise-host', ['--advertise-host', '0.0.0.0'], /`advertise.host`: 0.0.0.0 means "every interface"/],
    ['--advertise-host', ['--advertise-host', 'host:7000'], /`advertise.host`: "host:7000" is not a valid host name/],
    ['--secret', ['--secret', ''], /`secret`: expected a non-empty string, got ""/],
    ['--cluster', ['--cluster', ''], /`cluster`: expected a non-empty string, got ""/],
    ['--cluster', ['--cluster', 'c'.repeat(65)], /`cluster`: at most 64 characters, got 65/],
  ])('%s: %j', (_flag, argv, message) => {
    expect(() => resolved(argv)).toThrow(ElasticaOptionsError);
    expect(() => resolved(argv)).toThrow(message);
  });

  it('checks a value from the environment the same way', () => {
    expect(() => resolved([], { ELASTICA_SEEDS: 'nowhere' })).toThrow(
      /`seeds\[0\]`: "nowhere" is not of the form host:port/,
    );
    expect(() => resolved([], { ELASTICA_SECRET: '' })).toThrow(/`secret`: expected a non-empty string/);
    expect(() => resolved([], { ELASTICA_HOST: '0.0.0.0' })).toThrow(/`advertise`: 0.0.0.0 means "every interface"/);
  });
});

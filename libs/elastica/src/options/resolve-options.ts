import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { checkHost, checkPort, formatHostPort, parseHostPort } from '../common/host-port.js';
import { certificateNames, nodeIdNotNamed, parseSubject } from '../transport/certificate-names.js';
import {
  DEFAULT_BIND,
  DEFAULT_CLUSTER,
  DEFAULT_GOSSIP,
  DEFAULT_PARTITIONER,
  DEFAULT_RPC,
  failureDetectorDefaults,
} from './defaults.js';
import type { ElasticaOptions, FailureDetectorOptions, HostPort, ResolvedElasticaOptions } from './elastica-options.js';
import { describe, fail } from './option-checks.js';

// The public index exports these from here; they live with the rest of the host:port handling.
export { formatHostPort, parseHostPort } from '../common/host-port.js';

const UNSPECIFIED = new Set(['0.0.0.0', '::', '[::]']);

function checkObject(option: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(option, `expected an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

/** Merges a tuning section over its defaults, refusing unknown keys and values of the wrong kind. */
function section<T extends object>(
  name: string,
  given: unknown,
  defaults: T,
  rules: { [K in keyof T]?: (option: string, value: unknown) => void },
): T {
  const raw = checkObject(name, given);
  const known = new Set([...Object.keys(defaults), ...Object.keys(rules)]);
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) fail(`${name}.${key}`, `unknown option; known options are ${[...known].join(', ')}`);
  }
  const merged = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(raw)) if (value !== undefined) merged[key] = value;
  for (const key of Object.keys(rules) as (keyof T & string)[]) {
    const value = merged[key];
    if (value !== undefined) rules[key]!(`${name}.${key}`, value);
  }
  return merged as T;
}

// Assertions, so that a rule may go on to compare the value it has just checked.
function positive(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    fail(option, `expected a positive number, got ${describe(value)}`);
}
function positiveInt(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    fail(option, `expected a positive integer, got ${describe(value)}`);
}
function nonNegative(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    fail(option, `expected a number >= 0, got ${describe(value)}`);
}
function nonEmptyString(option: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.trim().length === 0)
    fail(option, `expected a non-empty string, got ${describe(value)}`);
}

/** Applies defaults and checks every option, so a bad configuration fails at start-up in one clear message. */
export function resolveOptions(input: ElasticaOptions | undefined): ResolvedElasticaOptions {
  const options = checkObject('options', input) as ElasticaOptions;
  const topLevel = new Set([
    'cluster',
    'nodeId',
    'bind',
    'advertise',
    'seeds',
    'secret',
    'tls',
    'appVersion',
    'gossip',
    'failureDetector',
    'partitioner',
    'rpc',
  ]);
  for (const key of Object.keys(options)) {
    // Nest's ConfigurableModuleBuilder may add its own extras (isGlobal); they are not ours to refuse.
    if (!topLevel.has(key) && key !== 'isGlobal')
      fail(key, `unknown option; known options are ${[...topLevel].join(', ')}`);
  }

  const cluster = options.cluster ?? DEFAULT_CLUSTER;
  nonEmptyString('cluster', cluster);
  if (cluster.length > 64) fail('cluster', `at most 64 characters, got ${cluster.length}`);

  const bindRaw = checkObject('bind', options.bind);
  const bind: HostPort = {
    host: checkHost('bind.host', bindRaw.host ?? DEFAULT_BIND.host),
    port: checkPort('bind.port', bindRaw.port ?? DEFAULT_BIND.port, true),
  };
  const advertiseRaw = checkObject('advertise', options.advertise);
  const advertise: HostPort = {
    host: checkHost('advertise.host', advertiseRaw.host ?? bind.host),
    port: checkPort('advertise.port', advertiseRaw.port ?? bind.port, true),
  };
  if (UNSPECIFIED.has(advertise.host)) {
    fail(
      advertiseRaw.host === undefined ? 'advertise' : 'advertise.host',
      `${advertise.host} means "every interface" and peers cannot dial it; set advertise.host to an address peers can reach`,
    );
  }
  if (advertise.port === 0 && bind.port !== 0) fail('advertise.port', 'port 0 cannot be advertised');

  if (options.seeds !== undefined && !Array.isArray(options.seeds))
    fail('seeds', `expected an array of "host:port", got ${describe(options.seeds)}`);
  const seeds = (options.seeds ?? []).map((seed, i) => parseHostPort(`seeds[${i}]`, seed));

  const nodeId = options.nodeId ?? formatHostPort(advertise);
  nonEmptyString('nodeId', nodeId);
  if (nodeId.length > 128) fail('nodeId', `at most 128 characters, got ${nodeId.length}`);

  if (options.secret !== undefined) {
    nonEmptyString('secret', options.secret);
  }

  if (options.appVersion !== undefined) {
    nonEmptyString('appVersion', options.appVersion);
    // A peer shows it in logs and on dashboards: no newlines to forge lines with.
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    if (options.appVersion.length > 64 || /[\u0000-\u001f\u007f]/.test(options.appVersion))
      fail('appVersion', 'at most 64 characters, none of them control characters');
  }

  let tls = options.tls;
  if (tls !== undefined) {
    const raw = checkObject('tls', tls);
    const known = ['key', 'cert', 'ca', 'nodeIdInCertificate'];
    for (const key of Object.keys(raw))
      if (!known.includes(key)) fail(`tls.${key}`, `unknown option; known options are ${known.join(', ')}`);
    for (const key of ['key', 'cert', 'ca'] as const) {
      const value = raw[key];
      if (!(typeof value === 'string' && value.length > 0) && !Buffer.isBuffer(value))
        fail(`tls.${key}`, 'expected PEM text or a Buffer');
    }
    if (raw.nodeIdInCertificate !== undefined && typeof raw.nodeIdInCertificate !== 'boolean') {
      fail('tls.nodeIdInCertificate', `expected true or false, got ${describe(raw.nodeIdInCertificate)}`);
    }
    tls = raw as unknown as typeof tls;
    try {
      createSecureContext({ key: tls.key, cert: tls.cert, ca: tls.ca });
    } catch (error) {
      fail('tls', `key, cert and ca do not make a TLS context: ${(error as Error).message}`);
    }
    // A node id taken from a port still to be chosen (0) is only known once bound; peers check it then.
    if (tls.nodeIdInCertificate && (options.nodeId !== undefined || advertise.port !== 0)) {
      const own = new X509Certificate(tls.cert);
      const names = certificateNames(parseSubject(own.subject), own.subjectAltName);
      const problem = nodeIdNotNamed(names, nodeId);
      if (problem)
        fail(
          'tls.nodeIdInCertificate',
          `this node's own certificate ${problem} (set nodeId to a name it holds, or issue it one)`,
        );
    }
  }

  const gossip = section('gossip', options.gossip, DEFAULT_GOSSIP, {
    intervalMs: positive,
    mtuBytes: (o, v) => {
      positiveInt(o, v);
      if (v < 512) fail(o, `at least 512 bytes, got ${v}`);
    },
    tombstoneTtlMs: positive,
    leaveTimeoutMs: positive,
    maxGenerationSkewMs: positive,
    downExpiryMs: positive,
    seedRetryMinMs: positive,
    seedRetryMaxMs: positive,
    maxStateBytes: (o, v) => {
      positiveInt(o, v);
      if (v < 4096) fail(o, `at least 4096 bytes, got ${v}`);
    },
    maxMembers: (o, v) => {
      positiveInt(o, v);
      if (v < 2) fail(o, `at least 2, got ${v}`);
    },
  });
  const givenDetector = checkObject('failureDetector', options.failureDetector) as Partial<FailureDetectorOptions>;
  const failureDetector = section(
    'failureDetector',
    givenDetector,
    failureDetectorDefaults(gossip.intervalMs, givenDetector),
    {
      threshold: positive,
      maxSampleSize: positiveInt,
      minStdDeviationMs: positive,
      acceptableHeartbeatPauseMs: nonNegative,
      firstHeartbeatEstimateMs: positive,
      maxIntervalMs: positive,
      localPauseMs: positive,
      distribution: (o, v) => {
        if (v !== 'normal' && v !== 'exponential') fail(o, `expected 'normal' or 'exponential', got ${describe(v)}`);
      },
    },
  );
  const partitioner = section('partitioner', options.partitioner, DEFAULT_PARTITIONER, {
    vnodes: (o, v) => {
      positiveInt(o, v);
      if (v > 4096) fail(o, `at most 4096, got ${v}`);
    },
    replicationFactor: positiveInt,
    replaces: nonEmptyString,
  });
  const rpc = section('rpc', options.rpc, DEFAULT_RPC, {
    timeoutMs: positive,
    maxFrameBytes: (o, v) => {
      positiveInt(o, v);
      if (v < 1024) fail(o, `at least 1024 bytes, got ${v}`);
    },
    maxQueueBytes: positiveInt,
    handshakeTimeoutMs: positive,
    connectTimeoutMs: positive,
    reconnectMinMs: positive,
    reconnectMaxMs: positive,
    maxInFlight: positiveInt,
    maxPendingHandshakes: positiveInt,
    protocolVersions: (o, v) => {
      const range = checkObject(o, v);
      for (const key of Object.keys(range))
        if (key !== 'min' && key !== 'max') fail(`${o}.${key}`, 'unknown option; known options are min, max');
      positiveInt(`${o}.min`, range.min);
      positiveInt(`${o}.max`, range.max);
      if (range.max < range.min || range.max > 0xffff)
        fail(`${o}.max`, `expected min..65535, got ${describe(range.max)}`);
    },
  });
  if (failureDetector.maxIntervalMs < 2 * gossip.intervalMs) {
    fail(
      'failureDetector.maxIntervalMs',
      `must be at least 2 x gossip.intervalMs (${2 * gossip.intervalMs}): heartbeats arrive once per interval, and intervals longer than this are never recorded; got ${failureDetector.maxIntervalMs}`,
    );
  }
  if (gossip.mtuBytes > rpc.maxFrameBytes)
    fail('gossip.mtuBytes', `must not exceed rpc.maxFrameBytes (${rpc.maxFrameBytes})`);
  if (gossip.seedRetryMaxMs < gossip.seedRetryMinMs)
    fail('gossip.seedRetryMaxMs', 'must be at least gossip.seedRetryMinMs');
  if (rpc.reconnectMaxMs < rpc.reconnectMinMs) fail('rpc.reconnectMaxMs', 'must be at least rpc.reconnectMinMs');

  return {
    cluster,
    nodeId,
    bind,
    advertise,
    seeds,
    secret: options.secret,
    tls,
    appVersion: options.appVersion,
    gossip,
    failureDetector,
    partitioner,
    rpc,
  };
}

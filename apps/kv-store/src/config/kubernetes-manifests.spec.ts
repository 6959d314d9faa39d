import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLAGS, parseNodeConfig } from './node-config.js';
import { parseYamlDocuments, type YamlValue } from './yaml-subset.js';

const DIR = 'examples/kubernetes';
type Obj = { [key: string]: YamlValue };
const obj = (v: YamlValue | undefined): Obj => (v !== undefined && typeof v === 'object' && !Array.isArray(v) ? v : {});
const list = (v: YamlValue | undefined): YamlValue[] => (Array.isArray(v) ? v : []);
const str = (v: YamlValue | undefined): string => (typeof v === 'string' ? v : '');

const documents = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseYamlDocuments(readFileSync(join(DIR, f), 'utf8')).map((doc) => ({ file: f, doc: obj(doc) })));
const byKind = (kind: string) => documents.filter((d) => d.doc.kind === kind).map((d) => d.doc);
const statefulSet = byKind('StatefulSet')[0];
const container = obj(list(obj(obj(obj(statefulSet?.spec).template).spec).containers)[0]);
const env = list(container.env).map(obj);
const ENV_NAMES = new Set(Object.values(FLAGS).map((f) => f.env));

describe('examples/kubernetes', () => {
  it('has a StatefulSet, a headless Service listing pods before they are ready, and a PodDisruptionBudget', () => {
    expect(statefulSet).toBeDefined();
    const headless = byKind('Service').find((s) => obj(s.spec).clusterIP === 'None');
    expect(obj(headless?.spec).publishNotReadyAddresses).toBe('true');
    expect(obj(statefulSet.spec).serviceName).toBe(obj(headless?.metadata).name);
    expect(byKind('PodDisruptionBudget')).toHaveLength(1);
  });

  it('sets only flags and ELASTICA_* variables the app has, spelled the same', () => {
    const args = list(container.args).map(str);
    const flags = args.filter((a) => a.startsWith('--')).map((a) => a.slice(2));
    expect(flags.length).toBeGreaterThan(0);
    for (const flag of flags) expect(Object.keys(FLAGS)).toContain(flag);
    const names = env.map((e) => str(e.name));
    for (const name of names.filter((n) => n.startsWith('ELASTICA_'))) expect(ENV_NAMES).toContain(name);
    // Any other variable only feeds another's value ($(NAME), expanded by Kubernetes).
    for (const name of names.filter((n) => !n.startsWith('ELASTICA_')))
      expect(env.some((e) => typeof e.value === 'string' && e.value.includes(`$(${name})`))).toBe(true);
  });

  it('names the node by its pod and advertises the pod IP (downward API), seeded by the headless Service name', () => {
    const field = (name: string) => obj(obj(env.find((e) => e.name === name)?.valueFrom).fieldRef).fieldPath;
    expect(field('ELASTICA_NODE_ID')).toBe('metadata.name');
    expect(field('ELASTICA_ADVERTISE_HOST')).toBe('status.podIP');
    const seeds = str(env.find((e) => e.name === 'ELASTICA_SEEDS')?.value);
    expect(seeds).toMatch(/^dns:kv-store-peers\..*:7000$/);
  });

  it('the values it sets are ones the app accepts', () => {
    const values: NodeJS.ProcessEnv = { POD_NAMESPACE: 'default' };
    for (const e of env)
      if (typeof e.value === 'string') values[str(e.name)] = e.value.replace('$(POD_NAMESPACE)', 'default');
    const config = parseNodeConfig(list(container.args).map(str), values);
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 7000,
      http: 8000,
      bootstrapContacts: 3,
      drainTimeoutMs: 15000,
    });
    expect(config.bootstrapContacts).toBeLessThanOrEqual(Number(obj(statefulSet.spec).replicas));
  });

  it('probes /health/ready and /health/live, and gives the drain, the handoff and the leave time to finish', () => {
    expect(obj(obj(container.readinessProbe).httpGet).path).toBe('/health/ready');
    expect(obj(obj(container.livenessProbe).httpGet).path).toBe('/health/live');
    const drainMs = Number(env.find((e) => e.name === 'ELASTICA_DRAIN_TIMEOUT_MS')?.value);
    const leaveMs = 10_000; // gossip.leaveTimeoutMs, the default
    const grace = Number(obj(obj(obj(statefulSet.spec).template).spec).terminationGracePeriodSeconds) * 1000;
    expect(grace).toBeGreaterThan(2 * drainMs + leaveMs);
  });
});

describe('the YAML subset reader', () => {
  it('reads what the examples use and refuses what it does not know', () => {
    expect(parseYamlDocuments("a: 1 # c\nb:\n  - x: '2'\n    y: [ '--a', b ]\n  - z\n---\nc: \"d\"\n")).toEqual([
      { a: '1', b: [{ x: '2', y: ['--a', 'b'] }, 'z'] },
      { c: 'd' },
    ]);
    expect(() => parseYamlDocuments('a: {b: 1}\n')).toThrow(/line 1: flow mappings/);
    expect(() => parseYamlDocuments('a: 1\n    b: 2\n')).toThrow(/line 2/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

// `elastica` as a user gets it: `npm pack`, installed into a fresh directory outside the repo, next to
// the Nest packages, and a small strict TypeScript app built and run against it. It catches what the
// repo's tsconfig paths hide: a missing file in `files`, an `exports` entry pointing nowhere,
// declarations that do not compile under a consumer's `strict`, an undeclared peer.
//
// Offline and deterministic: the package is packed from a staged copy of libs/elastica (its
// prepack cleans and rebuilds dist, which must not happen under the other suites that run the repo's
// dist), and the consumer's Nest packages are links to the exact versions this repo's `npm ci`
// installed, so nothing is fetched. npm installs the tarball among those links, and with
// --strict-peer-deps fails if one of them is outside the range the package declares.

const ROOT = process.cwd();
const LIB = join(ROOT, 'libs', 'elastica');
/** What the consumer imports besides `elastica`, linked from this repo's node_modules before npm runs. */
const PEERS = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/microservices',
  '@nestjs/platform-express',
  'rxjs',
  'reflect-metadata',
];
/** The optional peers of elastica/terminus, elastica/prometheus and elastica/tracing: linked after the install, which prunes unneeded links. */
const OPTIONAL_PEERS = ['@nestjs/terminus', 'prom-client', '@opentelemetry/api'];
/** Tools, linked after the install: not the package's peers, and npm would prune them as extraneous. */
const TOOLS = ['typescript', '@types/node'];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; npm_* variables of an enclosing `npm test` are dropped so they steer no nested npm. */
function run(command: string, args: string[], cwd: string, timeoutMs: number): Run {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(result: Run, what: string): Run {
  if (result.status !== 0) throw new Error(`${what} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

function link(name: string, into: string): void {
  const target = join(into, 'node_modules', name);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(realpathSync(join(ROOT, 'node_modules', name)), target, 'dir');
}

describe('elastica as an installed package', () => {
  let work: string;
  let consumer: string;
  let packed: string[];

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'elastica-pack-'));

    // The package directory as it is in the repo (its sources, package.json, tsconfig), minus any dist.
    const stage = join(work, 'stage');
    cpSync(LIB, join(stage, 'libs', 'elastica'), {
      recursive: true,
      filter: (path) => !['dist', 'node_modules'].includes(basename(path)),
    });
    copyFileSync(join(ROOT, 'tsconfig.json'), join(stage, 'tsconfig.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'), 'dir');
    const pack = ok(
      run('npm', ['pack', '--json', '--pack-destination', work], join(stage, 'libs', 'elastica'), 120_000),
      'npm pack',
    );
    const [{ filename, files }] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as {
      filename: string;
      files: { path: string }[];
    }[];
    packed = files.map((f) => f.path);

    consumer = join(work, 'consumer');
    mkdirSync(join(consumer, 'src'), { recursive: true });
    copyFileSync(join(ROOT, 'test', 'package', 'consumer', 'main.ts'), join(consumer, 'src', 'main.ts'));
    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({ name: 'elastica-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2),
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify(
        {
          compilerOptions: {
            target: 'es2022',
            module: 'nodenext',
            moduleResolution: 'nodenext',
            strict: true,
            experimentalDecorators: true,
            emitDecoratorMetadata: true,
            types: ['node'],
            rootDir: 'src',
            outDir: 'dist',
          },
          include: ['src'],
        },
        null,
        2,
      ),
    );
    for (const name of PEERS) link(name, consumer);
    ok(
      run(
        'npm',
        [
          'install',
          join(work, filename),
          '--no-save',
          '--offline',
          '--strict-peer-deps',
          '--ignore-scripts',
          '--no-audit',
          '--no-fund',
        ],
        consumer,
        60_000,
      ),
      'npm install of the tarball',
    );
    for (const name of [...TOOLS, ...OPTIONAL_PEERS]) link(name, consumer);
  }, 180_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('packs the built entry points and their declarations, and no sources or tests', () => {
    for (const entry of ['index', 'testing', 'terminus', 'prometheus', 'tracing', 'cli/main']) {
      expect(packed).toContain(`dist/${entry}.js`);
      expect(packed).toContain(`dist/${entry}.d.ts`);
    }
    expect(packed).toContain('package.json');
    expect(packed.filter((path) => !path.startsWith('dist/') && path !== 'package.json')).toEqual([]);
    expect(packed.filter((path) => /\.spec\.|\/testing\//.test(path))).toEqual([]);
  });

  it('is installed from the tarball, not linked to the repo', () => {
    const installed = join(consumer, 'node_modules', 'elastica');
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(realpathSync(installed).startsWith(realpathSync(work))).toBe(true);
  });

  it('declares as a peer every package its code imports', () => {
    const installed = join(consumer, 'node_modules', 'elastica');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    const declared = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
    const imported = new Set<string>();
    for (const file of readdirSync(join(installed, 'dist'), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.js')) continue;
      const code = readFileSync(join(installed, 'dist', file), 'utf8');
      // Static imports and re-exports (statements, so a comment quoting code is not one), and import().
      const statements =
        /^\s*(?:import|export)\b[^;]*?\bfrom\s*'([^']+)'|^\s*import\s*'([^']+)'|\bimport\(\s*'([^']+)'/gm;
      for (const match of code.matchAll(statements)) {
        const specifier = match[1] ?? match[2] ?? match[3];
        if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
        const parts = specifier.split('/');
        imported.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
      }
    }
    expect(imported.size).toBeGreaterThan(0);
    expect([...imported].filter((name) => !declared.includes(name))).toEqual([]);
  });

  it('resolves the optional entry points, and only they import their optional peers', () => {
    const script = `
      const t = await import('elastica/terminus');
      const p = await import('elastica/prometheus');
      const o = await import('elastica/tracing');
      console.log(JSON.stringify({ terminus: typeof t.ElasticaHealthIndicator, prometheus: typeof p.ElasticaMetricsModule.forRoot, tracing: typeof o.ElasticaTracingModule.forRoot }));`;
    const resolved = ok(
      run(process.execPath, ['--input-type=module', '-e', script], consumer, 30_000),
      'importing the subpath exports',
    );
    expect(JSON.parse(resolved.stdout.trim())).toEqual({
      terminus: 'function',
      prometheus: 'function',
      tracing: 'function',
    });
    const installed = join(consumer, 'node_modules', 'elastica', 'dist');
    const importers: string[] = [];
    for (const file of readdirSync(installed, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.js')) continue;
      if (
        /from '(@nestjs\/terminus|prom-client|@opentelemetry\/api)'/.test(readFileSync(join(installed, file), 'utf8'))
      )
        importers.push(file);
    }
    expect(importers.filter((f) => !/^(terminus|prometheus|tracing)(\.js|\/)/.test(f))).toEqual([]);
  });

  it('installs the elastica command, which prints its usage and fails with a message when the node is unreachable', () => {
    const bin = join(consumer, 'node_modules', '.bin', 'elastica');
    const help = run(bin, ['--help'], consumer, 30_000);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('usage: elastica status');
    const down = run(bin, ['status', '--node', '127.0.0.1:1'], consumer, 30_000);
    expect(down.status).not.toBe(0);
    expect(down.stderr).toContain('elastica: cannot reach 127.0.0.1:1');
  });

  it('type-checks a consumer under strict and runs two nodes exchanging a @ClusterMessage', () => {
    const tsc = join(consumer, 'node_modules', 'typescript', 'bin', 'tsc');
    ok(run(process.execPath, [tsc, '-p', 'tsconfig.json'], consumer, 60_000), 'tsc --strict of the consumer');

    const app = ok(run(process.execPath, ['dist/main.js'], consumer, 60_000), 'the consumer app');
    const last = app.stdout.trim().split('\n').pop() ?? '';
    const result = JSON.parse(last) as { reply: string; elastica: string };
    expect(result.reply).toBe('pong: hello (from node-a to node-b)');
    // The tarball's copy, not libs/elastica (through a workspace link or tsconfig paths).
    expect(result.elastica).toBe(realpathSync(join(consumer, 'node_modules', 'elastica', 'dist', 'index.js')));
  }, 120_000);
});

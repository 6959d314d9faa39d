// What `npm test` and `npm start` do first, so that either works as the very first command on a fresh
// clone. Node's built-ins only: the dependencies may not be installed yet.
//   node tools/setup.mjs             the dependencies: `npm ci` when node_modules is missing or does not
//                                    match package-lock.json (tools/start.mjs calls ensureDependencies)
//   node tools/setup.mjs --for test  also the system packages that test suites need (tools/system-packages.json):
//                                    as root with apt-get, installs the missing ones; otherwise prints one line
//                                    per suite that will skip, naming the command that enables it
import { spawnSync } from 'node:child_process';
import { accessSync, constants, lstatSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Files npm test and npm start need first: one missing means an install cut short, or a folder removed by hand. */
const REQUIRED = [
  'node_modules/typescript/bin/tsc',
  'node_modules/jest/bin/jest.js',
  'node_modules/@nestjs/core/package.json',
];
/** `ip` and `nft` live in the sbin folders, which a non-login shell's PATH (`su user -c`) may lack. */
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

const say = (line) => console.log(`setup: ${line}`);

/**
 * @typedef {{ version?: string, optional?: boolean }} LockEntry
 * @typedef {{ packages?: Record<string, LockEntry> }} Lockfile
 * @typedef {{ apt: string, command: string }} SystemPackage
 * @typedef {{ name: string, what: string, needsRoot?: boolean, packages: SystemPackage[] }} Suite
 */

/** @param {string} path */
function exists(path) {
  try {
    accessSync(path);
    return true;
  } catch {
    return false;
  }
}

/** @param {string} path */
function isSymlink(path) {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * JSON.parse's any, as unknown: the caller says what it expects.
 * @param {string} path
 * @returns {unknown}
 */
function readJson(path) {
  /** @type {unknown} */
  const value = JSON.parse(readFileSync(path, 'utf8'));
  return value;
}

/**
 * Why node_modules does not hold what package-lock.json asks for, or undefined when it does. npm keeps
 * what it installed in node_modules/.package-lock.json: comparing versions with it, rather than the two
 * files' ages, tells a lock that changed from one that was only checked out again.
 * @param {string} root
 * @returns {string | undefined}
 */
export function dependencyProblem(root = ROOT) {
  const modules = join(root, 'node_modules');
  if (!exists(modules)) return 'node_modules is missing';
  const installedPath = join(modules, '.package-lock.json');
  if (!exists(installedPath)) return 'node_modules was not installed by npm (no node_modules/.package-lock.json)';
  const wanted = /** @type {Lockfile} */ (readJson(join(root, 'package-lock.json'))).packages ?? {};
  const installed = /** @type {Lockfile} */ (readJson(installedPath)).packages ?? {};
  for (const [path, entry] of Object.entries(wanted)) {
    if (!path.startsWith('node_modules/')) continue; // the root's and the workspaces' own entries
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const have = installed[path];
    if (have === undefined) {
      if (entry.optional) continue; // another platform's binary, which npm does not install here
      return `${name} is not installed`;
    }
    if (have.version !== entry.version)
      return `${name} ${have.version} is installed where package-lock.json asks for ${entry.version}`;
  }
  const gone = REQUIRED.find((file) => !exists(join(root, file)));
  return gone === undefined ? undefined : `${gone} is missing`;
}

/** npm itself: the one running this script when there is one (npm test, npm start), else the one on PATH. */
function npm(/** @type {string[]} */ args, /** @type {import('node:child_process').SpawnSyncOptions} */ options) {
  const cli = process.env.npm_execpath;
  return cli && /npm-cli\.[cm]?js$/.test(cli)
    ? spawnSync(process.execPath, [cli, ...args], options)
    : spawnSync('npm', args, options);
}

/** Installs the dependencies from the lock file (npm ci) unless node_modules already matches it. */
export function ensureDependencies(root = ROOT) {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) {
    console.error(`setup: this is Node ${process.versions.node}; Elastica needs Node 20 or later`);
    process.exit(1);
  }
  const problem = dependencyProblem(root);
  if (problem === undefined) return;
  if (isSymlink(join(root, 'node_modules'))) {
    // npm ci would empty it: it belongs to the checkout it links to (a git worktree sharing it, say).
    say(`${problem}; node_modules is a link to another checkout's, left as it is (run npm ci there)`);
    return;
  }
  say(`${problem}: installing the dependencies from package-lock.json (npm ci)`);
  const started = Date.now();
  const result = npm(['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`setup: npm ci failed (${result.error?.message ?? `exit code ${result.status}`})`);
    process.exit(result.status || 1);
  }
  say(`dependencies installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** Where `name` is found as an executable on PATH or in the sbin folders, or undefined. */
function findCommand(/** @type {string} */ name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** @returns {Suite[]} */
function readSuites(root = ROOT) {
  return /** @type {{ suites: Suite[] }} */ (readJson(join(root, 'tools', 'system-packages.json'))).suites;
}

/** The last line of apt's complaint, which names what went wrong. */
function lastLine(/** @type {string} */ text) {
  return (
    text
      .trim()
      .split('\n')
      .filter((line) => line.trim())
      .pop() ?? ''
  );
}

/**
 * `apt-get update` then `apt-get install`; undefined once every package's command is found, else what went
 * wrong. The lock timeout lets two checkouts set up at once take turns instead of failing.
 * @param {string} apt
 * @param {SystemPackage[]} packages
 */
function aptInstall(apt, packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  const steps = [
    ['update', '-qq', ...lock],
    ['install', '-y', '-qq', '--no-install-recommends', ...lock, ...packages.map((p) => p.apt)],
  ];
  for (const args of steps) {
    const result = spawnSync(apt, args, {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.error) return `apt-get ${args[0]}: ${result.error.message}`;
    if (result.status !== 0)
      return `apt-get ${args[0]} exited ${result.status}: ${lastLine(result.stderr || result.stdout)}`;
  }
  const still = packages.filter((p) => findCommand(p.command) === undefined);
  return still.length === 0 ? undefined : `installed, yet ${still.map((p) => p.command).join(' and ')} not found`;
}

/**
 * The system packages of tools/system-packages.json: as root with apt-get, installs the missing ones
 * (nothing when all are there, so only the first run pays); otherwise says which suites will skip and
 * the command that enables each. An install that fails (no network) fails only in CI, where every
 * suite must run: elsewhere the suites concerned skip, each with its line.
 */
export function ensureSystemPackages(root = ROOT) {
  const isRoot = process.getuid?.() === 0;
  const linux = process.platform === 'linux';
  const apt = linux ? findCommand('apt-get') : undefined;
  const suites = readSuites(root).map((suite) => ({
    ...suite,
    missing: suite.packages.filter((p) => findCommand(p.command) === undefined),
  }));
  const lacking = suites.filter((s) => s.missing.length > 0);
  if (isRoot && apt && lacking.length > 0) {
    const packages = [...new Map(lacking.flatMap((s) => s.missing).map((p) => [p.apt, p])).values()];
    const names = packages.map((p) => p.apt).join(' ');
    say(`installing ${names} with apt-get, for ${lacking.map((s) => s.what).join(' and ')}`);
    const started = Date.now();
    const failure = aptInstall(apt, packages);
    if (failure === undefined) {
      say(`installed ${names} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      for (const suite of lacking) suite.missing = [];
    } else {
      say(`could not install ${names}: ${failure}`);
      if (process.env.CI) {
        console.error('setup: CI must run every suite, so this is a failure');
        process.exit(1);
      }
    }
  }
  for (const suite of suites) {
    const why = [];
    if (suite.needsRoot && !linux) why.push(`it needs Linux (this is ${process.platform})`);
    else if (suite.needsRoot && !isRoot) why.push('it needs root');
    if (suite.missing.length > 0)
      why.push(`${suite.missing.map((p) => p.apt).join(' and ')} ${suite.missing.length > 1 ? 'are' : 'is'} missing`);
    if (why.length === 0) continue;
    const names = suite.missing.map((p) => p.apt).join(' ');
    let enable;
    if (suite.needsRoot && !linux) enable = 'a Linux machine';
    else if (suite.needsRoot && !isRoot) enable = `npm test as root${names ? `, which installs ${names}` : ''}`;
    else if (apt) enable = `${isRoot ? '' : 'sudo '}apt-get install -y ${names}`;
    else enable = `the ${names} package(s) of this system's package manager`;
    say(`will skip ${suite.what}: ${why.join(' and ')}; enable with: ${enable}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { for: { type: 'string', default: 'start' } }, strict: true });
  if (values.for !== 'test' && values.for !== 'start') {
    console.error(`--for must be test or start, got ${JSON.stringify(values.for)}`);
    process.exit(2);
  }
  ensureDependencies();
  if (values.for === 'test') ensureSystemPackages();
}

import { it } from '@jest/globals';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * What test suites need from the system, as tools/system-packages.json lists it: tools/setup.mjs (the
 * first step of `npm test`) installs it when it can, and the suites concerned skip when it is not there,
 * with one line naming the command that enables them, or fail under CI=true, where everything must run.
 */
interface SystemPackage {
  apt: string;
  command: string;
}
interface Suite {
  name: string;
  what: string;
  needsRoot?: boolean;
  packages: SystemPackage[];
}

function suite(name: string): Suite {
  const list = JSON.parse(readFileSync(join(process.cwd(), 'tools', 'system-packages.json'), 'utf8')) as {
    suites: Suite[];
  };
  const found = list.suites.find((s) => s.name === name);
  if (found === undefined) throw new Error(`tools/system-packages.json lists no suite named ${name}`);
  return found;
}

/** Where `name` is as an executable, on PATH or in the sbin folders (which a non-login shell may lack). */
export function findCommand(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'];
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

/** Which of the suite's packages are missing and the command that installs them, or undefined if none is. */
export function missingPackages(suiteName: string): string | undefined {
  const missing = suite(suiteName)
    .packages.filter((p) => findCommand(p.command) === undefined)
    .map((p) => p.apt);
  if (missing.length === 0) return undefined;
  const names = missing.join(' ');
  const enable = !findCommand('apt-get')
    ? `the ${names} package(s) of this system's package manager`
    : process.getuid?.() === 0
      ? `apt-get install -y ${names} (npm test does it, as root)`
      : `sudo apt-get install -y ${names}`;
  return `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing; enable with: ${enable}`;
}

/**
 * Prints `line` once per Jest run however many test files ask under `key`: the first to create the
 * marker (keyed by the Jest process) prints it.
 */
export function announceOnce(key: string, line: string): void {
  const jestPid = typeof process.send === 'function' ? process.ppid : process.pid; // worker → its parent
  try {
    closeSync(openSync(join(tmpdir(), `elastica-${key}-skip-${jestPid}`), 'wx'));
  } catch {
    return; // another file of this run already said it
  }
  process.stdout.write(`${line}\n`);
}

/**
 * `it` for a test that needs the system packages of `suiteName` (tools/system-packages.json): runs it
 * where they are; elsewhere skips it, with one line for the whole suite; in CI (CI=true) their absence
 * is a failure, since CI must run everything.
 */
export function itNeeding(suiteName: string, name: string, fn: () => Promise<unknown>, timeout?: number): void {
  const reason = missingPackages(suiteName);
  if (reason === undefined) {
    it(name, fn, timeout);
  } else if (process.env.CI) {
    it(name, () => {
      throw new Error(`${suite(suiteName).what} must run in CI but cannot: ${reason}`);
    });
  } else {
    announceOnce(suiteName, `${suite(suiteName).what} skipped: ${reason}`);
    it.skip(name, fn, timeout);
  }
}

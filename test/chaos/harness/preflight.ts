import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import { missingPackages } from '../../support/system-packages.js';
import { sh } from './shell.js';

/** Why the chaos suite cannot run on this machine, or undefined when it can. */
export function chaosSkipReason(): string | undefined {
  if (process.platform !== 'linux') return `needs Linux network namespaces (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces (run as root, as CI does)';
  const missing = missingPackages('chaos'); // tools/system-packages.json, which npm test installs as root
  if (missing !== undefined) return missing;
  try {
    sh('nft', ['list', 'tables']);
  } catch (error) {
    return `nftables is not usable here: ${(error as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

/**
 * Prints the one line saying why the chaos suite is skipped, once per Jest run however many chaos
 * files ask: the first to create the marker (keyed by the Jest process) prints it.
 */
function announceOnce(reason: string): void {
  const jestPid = typeof process.send === 'function' ? process.ppid : process.pid; // worker → its parent
  try {
    closeSync(openSync(join(tmpdir(), `elastica-chaos-skip-${jestPid}`), 'wx'));
  } catch {
    return; // another chaos file of this run already said it
  }
  process.stdout.write(`chaos suite skipped: ${reason}\n`);
}

/**
 * `describe` for a chaos suite: runs it where the machine allows; elsewhere skips it with one line;
 * in CI (CI=true) a machine that cannot run it is a failure, since CI must run it.
 */
export function describeChaos(name: string, body: () => void): void {
  const reason = chaosSkipReason();
  if (reason === undefined) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      it('runs in CI', () => {
        throw new Error(`the chaos suite must run in CI but cannot: ${reason}`);
      });
    });
  } else {
    announceOnce(reason);
    describe.skip(name, body);
  }
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { findCommand } from '../../support/system-packages.js';

/** The suite of tools/system-packages.json that brings the browser: tests that need it use itNeeding(BROWSER, …). */
export const BROWSER = 'browser';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless chromium, Debian's (playwright-core brings no browser of its own; npm test installs it as
 * root), with a fresh profile directory (removed on close).
 */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = findCommand('chromium');
  if (executablePath === undefined) throw new Error('chromium is missing: npm test installs it when run as root');
  const profile = mkdtempSync(join(tmpdir(), 'kv-dashboard-'));
  // launchPersistentContext is how playwright takes a --user-data-dir: a fresh one per run.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 820 },
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

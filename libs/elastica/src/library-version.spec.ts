import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { LIBRARY_VERSION } from './elastica.constants.js';

describe('LIBRARY_VERSION', () => {
  it('is the version in libs/elastica/package.json (what members() shows as each node version)', () => {
    const pkg = JSON.parse(readFileSync('libs/elastica/package.json', 'utf8')) as { version: string };
    expect(LIBRARY_VERSION).toBe(pkg.version);
  });
});

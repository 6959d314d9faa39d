// Jest in ESM mode: Nest 12 ships ESM only, and Node 20 can load it from Jest only through
// --experimental-vm-modules. ts-jest transpiles each file alone (isolatedModules) for speed;
// `npm run typecheck` is the type gate.
const tsJest = ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }];
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': tsJest },
  moduleNameMapper: {
    '^elastica$': '<rootDir>/libs/elastica/src/index.ts',
    '^elastica/testing$': '<rootDir>/libs/elastica/src/testing.ts',
    '^elastica/(terminus|prometheus|tracing)$': '<rootDir>/libs/elastica/src/$1.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
};
export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts', '<rootDir>/tools/**/*.spec.ts'],
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};

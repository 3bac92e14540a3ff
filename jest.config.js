// Two projects: `unit` is fast and needs nothing running; `e2e` drives the bundled actions
// against the local test bed (see testbed/) through the runner-faithful harness.
const shared = {
  // The test bed's state (etcd's *.snap files look like jest snapshots) and build outputs are not tests.
  modulePathIgnorePatterns: ['<rootDir>/.testbed/', '<rootDir>/otlp-client/target/', '<rootDir>/dist/'],
  watchPathIgnorePatterns: ['<rootDir>/.testbed/'],
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] }
}

export default {
  // A global option (ignored inside a project): end-to-end tests drive real builds and rollouts.
  testTimeout: 600000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
      testPathIgnorePatterns: ['/__tests__/e2e/']
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/__tests__/e2e/**/*.test.ts']
    }
  ],
  collectCoverageFrom: ['src/**/*.ts'],
  coverageReporters: ['lcov', 'json-summary', 'text-summary'],
  reporters: ['default']
}

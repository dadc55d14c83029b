// ESM all the way: @actions/* and onnx-buf ship ES modules only, so jest runs with
// --experimental-vm-modules (see package.json) and ts-jest emits ESM.
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: { isolatedModules: true } }],
};
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform,
  testEnvironment: '<rootDir>/test/jest-environment.js',
};
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/**/*.test.ts'], testPathIgnorePatterns: ['/test/reliability/'] },
    { ...common, displayName: 'reliability', testMatch: ['<rootDir>/test/reliability/**/*.test.ts'] },
  ],
  testTimeout: 120000,
};

/** One jest run for the whole monorepo: unit tests (*.test.ts) and integration tests (*.int.test.ts). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/apps", "<rootDir>/libs", "<rootDir>/tests", "<rootDir>/chaos", "<rootDir>/bench"],
  testMatch: ["**/src/**/*.test.ts", "<rootDir>/tests/**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "commonjs" } }],
  },
  globalSetup: "<rootDir>/libs/testkit/src/global-setup.ts",
  globalTeardown: "<rootDir>/libs/testkit/src/global-teardown.ts",
  testTimeout: 60_000,
  maxWorkers: 3,
};

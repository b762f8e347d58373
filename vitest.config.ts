import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two cores: more workers than this only makes Docker- and NATS-backed tests slower.
    maxWorkers: 2,
    reporters: ["default"],
  },
});

import { defineConfig } from 'vitest/config';

// The node markdown benchmark: one test file, no time limit, output as it comes.
export default defineConfig({
  resolve: { conditions: ['browser'] },
  test: {
    environment: 'jsdom',
    include: ['bench/node.bench.ts'],
    testTimeout: 0,
    reporters: ['dot'],
  },
});

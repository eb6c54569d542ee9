// berth's vitest projects. Tests import the workspace packages' built output (npm test builds
// first), so what is tested is what `npm start` runs. Heavy projects (e2e, kubernetes, modal)
// start real agent processes; they run in forks so a crashed child never takes a worker down.
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

const heavy = { pool: 'forks' as const, testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    root: import.meta.dirname,
    // vitest's default (cores − 1) is one worker on CI's two cores, and most heavy files spend
    // their time waiting on child processes and sockets: two files side by side nearly halve the
    // suites' wall time, and the suites are written to pass on a busy machine.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      { test: { name: 'unit', include: ['unit/**/*.test.ts'], testTimeout: 10_000 } },
      { test: { name: 'integration', include: ['integration/**/*.test.ts'], ...heavy } },
      { test: { name: 'e2e', include: ['e2e/**/*.test.ts'], ...heavy } },
      { test: { name: 'kubernetes', include: ['kubernetes/**/*.test.ts'], ...heavy } },
      { test: { name: 'modal', include: ['modal/**/*.test.ts'], ...heavy } },
      { test: { name: 'deploy', include: ['deploy/**/*.test.ts'], ...heavy } },
      // Benchmarks print JSON lines; BERTH_BENCH_ROUNDS keeps CI's run short. They run alone and
      // one file at a time (`--no-file-parallelism` in scripts/test.sh and `npm run bench`).
      { test: { name: 'bench', include: ['bench/**/*.bench.test.ts'], ...heavy, testTimeout: 300_000 } },
    ],
  },
});

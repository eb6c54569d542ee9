// berth's vitest projects. Tests import the workspace packages' built output (npm test builds
// first), so what is tested is what `npm start` runs. Heavy projects (e2e, kubernetes, modal)
// start real agent processes; they run in forks so a crashed child never takes a worker down.
import { defineConfig } from 'vitest/config';

const heavy = { pool: 'forks' as const, testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    root: import.meta.dirname,
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

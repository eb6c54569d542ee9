// `helm lint --strict` on the chart, with the defaults and with every scenario's values: lint
// fails on template errors, schema violations and (strict) on warnings such as missing fields.
import { describe, expect, test } from 'vitest';
import { chartDir, runHelm } from './render-chart.js';
import { scenarios } from './scenarios.js';
import { stringify } from 'yaml';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

describe('helm lint --strict', () => {
  test.each(scenarios)('$name', async (scenario) => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-lint-'));
    try {
      const args = ['lint', '--strict', chartDir];
      for (const f of scenario.files ?? []) args.push('--values', f);
      (scenario.values ?? []).forEach((v, i) => {
        const f = path.join(tmp, `v${i}.yaml`);
        writeFileSync(f, stringify(v));
        args.push('--values', f);
      });
      const out = await runHelm(args);
      expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      expect(out).not.toMatch(/\[(WARNING|ERROR)\]/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

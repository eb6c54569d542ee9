// The chart validates tenants.config with the gateway's own tenants schema: its copy in
// values.schema.json is pinned equal to gateway/src/tenants/tenants-schema.ts, and helm refuses
// what the gateway refuses (a misspelled key anywhere, the new webhook and agent fields' shapes).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { hashToken } from '@berth/gateway/tenants';
import { TENANTS_FILE_SCHEMA } from '@berth/gateway/tenants';
// @ts-expect-error: plain ESM script without type declarations; shapes are asserted here.
import { chartSchemaFile, syncedChartSchema } from '../../deploy/sync-tenants-schema.mjs';
import { renderChart, renderError, type Values } from './render-chart.js';

const HASH = hashToken('alice-token');
const tenants = (alice: Record<string, unknown>): Values => ({ tenants: { config: { tenants: { alice: { tokenHashes: [HASH], ...alice } } } } });

describe("the chart's tenants.config schema", () => {
  test('is the gateway tenants schema, byte for byte (npm run render:tenants-schema rewrites it)', async () => {
    const chart = JSON.parse(readFileSync(chartSchemaFile as string, 'utf8')) as { properties: { tenants: { properties: { config: unknown } } } };
    expect(chart.properties.tenants.properties.config).toEqual(TENANTS_FILE_SCHEMA);
    expect(readFileSync(chartSchemaFile as string, 'utf8')).toBe(await (syncedChartSchema as () => Promise<string>)());
  });

  test.each([
    ['a misspelled limits', { limts: { maxConcurrentSessions: 1 } }, /additional properties 'limts'/],
    ['a misspelled key inside limits', { limits: { maxConcurentSessions: 1 } }, /additional properties 'maxConcurentSessions'/],
    ['a misspelled key inside agent', { agent: { maxTurn: 3 } }, /additional properties 'maxTurn'/],
    ['a webhook without a secret', { webhooks: [{ url: 'https://hooks.example/x' }] }, /webhooks\/0'.*secret/],
    ['a webhook event berth does not send', { webhooks: [{ url: 'https://hooks.example/x', secret: 'whsec_' + Buffer.alloc(32).toString('base64'), events: ['session.created'] }] }, /webhooks\/0\/events\/0/],
    ['a permission rule without a decision', { agent: { permissions: { rules: [{ tool: 'Bash' }] } } }, /permissions\/rules\/0'.*decision/],
    ['a zero turn timeout', { agent: { turnTimeoutS: 0 } }, /agent\/turnTimeoutS/],
  ])('refuses %s', async (_what, alice, message) => {
    expect(await renderError({ values: [tenants(alice)] })).toMatch(message);
  });

  test('accepts the new webhook and agent fields', async () => {
    const objects = await renderChart({
      values: [tenants({
        webhooks: [{ url: 'https://hooks.example/x', secret: 'whsec_' + Buffer.alloc(32).toString('base64'), events: ['session.turn_ended'] }],
        agent: { permissions: { default: 'ask', rules: [{ tool: 'mcp__*', decision: 'deny' }] }, approvalTimeoutS: 60, turnTimeoutS: 600, maxFramesPerTurn: 100, maxFrameBytes: 65536 },
      })],
    });
    expect(objects.some((o) => o.kind === 'Secret')).toBe(true);
  });
});

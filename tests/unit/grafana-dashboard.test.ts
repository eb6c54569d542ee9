// Pins deploy/grafana/berth-dashboard.json to the metrics berth really exports: every metric
// name a panel queries is registered by createGatewayMetrics, createEgressMetrics,
// createWebhookMetrics or createBackendMetrics (histogram
// series by their base name), every panel has a query, and no query groups by a label that could
// explode (tenant, session or sandbox ids never exist as labels, so the dashboard may not ask).

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { Registry } from 'prom-client';
import { createGatewayMetrics } from '@berth/gateway/testing';
import { createEgressMetrics } from '@berth/gateway/egress';
import { createBackendMetrics } from '@berth/orchestrator';
import { createWebhookMetrics } from '@berth/gateway/webhooks';

interface Panel { title: string; targets?: Array<{ expr: string }> }

const dashboardFile = path.join(import.meta.dirname, '../../deploy/grafana/berth-dashboard.json');

async function exported(): Promise<Map<string, string[]>> {
  const registry = new Registry();
  createGatewayMetrics(registry);
  createBackendMetrics(registry, 'local');
  createEgressMetrics(registry);
  createWebhookMetrics(registry);
  const metrics = await registry.getMetricsAsJSON();
  return new Map(metrics.map((m) => [m.name, (m as unknown as { labelNames?: string[] }).labelNames ?? []]));
}

describe('Grafana dashboard', () => {
  test('every queried metric is exported, every panel queries something, groupings use bounded labels', async () => {
    const dashboard = JSON.parse(await readFile(dashboardFile, 'utf8')) as { panels: Panel[]; uid: string };
    const names = await exported();
    expect(dashboard.uid).toBe('berth-overview');
    expect(dashboard.panels.length).toBeGreaterThan(5);
    const used = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const { expr } of panel.targets!) {
        for (const raw of expr.match(/berth_[a-z_]+/g) ?? []) {
          const base = raw.replace(/_(bucket|count|sum)$/, '');
          expect(names.has(raw) || names.has(base), `${panel.title}: ${raw}`).toBe(true);
          used.add(names.has(raw) ? raw : base);
        }
        for (const group of expr.matchAll(/by \(([^)]*)\)/g)) {
          for (const label of group[1]!.split(',').map((l) => l.trim())) {
            expect(['le', 'route', 'status', 'method', 'outcome', 'kind', 'reason', 'profile', 'backend', 'type', 'direction']).toContain(label);
          }
        }
      }
    }
    // The metrics the issue names are all on the dashboard.
    for (const name of [
      'berth_gateway_request_duration_seconds', 'berth_gateway_streams_open', 'berth_gateway_sessions',
      'berth_orchestrator_claims_total', 'berth_orchestrator_standby_ready', 'berth_gateway_quota_refusals_total',
      // The egress gateway's own (scraped from its metrics port): tokens and egress decisions.
      'berth_egress_metered_tokens_total', 'berth_egress_decisions_total', 'berth_egress_bytes_total', 'berth_egress_open_tunnels',
    ]) expect(used.has(name), name).toBe(true);
  });
});

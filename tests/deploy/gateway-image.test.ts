// gateway/Dockerfile cannot be built here (no Docker engine), so what the image promises is
// checked from both ends: the Dockerfile's structure (multi-stage, npm ci + tsc -b, production
// dependencies only, numeric non-root user, the entry point the chart's args expect), and the
// compiled program it ships: every module `node cli/dist/main.js` loads statically stays inside
// protocol/orchestrator/gateway/cli and their declared production dependencies, never the Agent
// SDK or the agent image (which the image leaves out).
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { podTemplate } from './pod-spec.js';
import { one, renderChart, repoRoot } from './render-chart.js';

const dockerfile = readFileSync(path.join(repoRoot, 'gateway', 'Dockerfile'), 'utf8');
const IMAGE_WORKSPACES = ['protocol', 'orchestrator', 'gateway', 'cli'];

/** Stages as [header line, instructions], comments and continuations folded. */
function stages(text: string): Array<{ from: string; lines: string[] }> {
  const logical = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const out: Array<{ from: string; lines: string[] }> = [];
  for (const line of logical) {
    if (/^FROM\s/i.test(line)) out.push({ from: line, lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

describe('gateway/Dockerfile', () => {
  const all = stages(dockerfile);
  const final = all.at(-1)!;

  test('is multi-stage: npm ci and tsc -b in a build stage, production dependencies pruned in another', () => {
    expect(all.length).toBeGreaterThanOrEqual(3);
    const build = all.find((s) => s.lines.some((l) => /npm ci\b/.test(l)))!;
    expect(build, 'a stage runs npm ci').toBeDefined();
    expect(build.lines.some((l) => /tsc -b\b/.test(l))).toBe(true);
    const deps = all.find((s) => s.lines.some((l) => /--omit=dev/.test(l)))!;
    expect(deps, 'a stage installs production dependencies only').toBeDefined();
    expect(deps.lines.join('\n')).toMatch(/test ! -e node_modules\/@anthropic-ai\/claude-agent-sdk/);
    expect(final.lines.some((l) => /npm (ci|install)/.test(l))).toBe(false);
  });

  test('the final stage runs as a numeric non-root user and ships no agent image code', () => {
    const user = final.lines.filter((l) => /^USER\s/i.test(l)).at(-1);
    expect(user).toMatch(/^USER\s+([1-9]\d*)(:[1-9]\d*)?$/); // numeric: runAsNonRoot can verify it
    expect(final.lines.join('\n')).not.toMatch(/agent-image/);
    for (const ws of IMAGE_WORKSPACES) expect(final.lines.join('\n')).toContain(`${ws}/dist/`);
  });

  test('the entry point is the CLI, and the chart passes the gateway subcommand with its role flag', async () => {
    expect(final.lines).toContain('ENTRYPOINT ["node", "/app/cli/dist/main.js"]');
    const objects = await renderChart();
    expect(podTemplate(one(objects, 'Deployment', 'berth-gateway')).spec.containers[0]!.args).toEqual(['gateway', '--ingress-only']);
    expect(podTemplate(one(objects, 'Deployment', 'berth-egress')).spec.containers[0]!.args).toEqual(['gateway', '--egress-only']);
  });

  test('its .dockerignore lets in every path the Dockerfile copies from the context', () => {
    const ignore = readFileSync(path.join(repoRoot, 'gateway', 'Dockerfile.dockerignore'), 'utf8');
    const allowed = ignore.split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const copied = all.flatMap((s) => s.lines.filter((l) => /^COPY\s/i.test(l) && !/--from=/.test(l)))
      .flatMap((l) => l.split(/\s+/).slice(1, -1)).map((p) => p.replace(/\/$/, ''));
    expect(copied.length).toBeGreaterThan(0);
    for (const p of copied) expect(allowed.some((a) => p === a || p.startsWith(`${a}/`)), p).toBe(true);
  });
});

describe('the program the image runs', () => {
  const packageDir = (name: string) => path.join(repoRoot, name.replace('@berth/', ''));
  const declared = new Set(IMAGE_WORKSPACES.flatMap((ws) => Object.keys((JSON.parse(readFileSync(path.join(repoRoot, ws, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {})));

  /** dist file of an @berth/<pkg>[/subpath] specifier, following the workspaces' "./*" exports. */
  /** The file a workspace's package.json `exports` names for the specifier (sealed: no "./*"). */
  function resolveBerth(specifier: string): string {
    const [, pkg, sub] = /^(@berth\/[^/]+)(?:\/(.+))?$/.exec(specifier)!;
    const exportsField = (JSON.parse(readFileSync(path.join(packageDir(pkg!), 'package.json'), 'utf8')) as { exports: Record<string, { default: string }> }).exports;
    const target = exportsField[sub ? `./${sub}` : '.'];
    expect(target, `${specifier} is not exported by ${pkg}`).toBeDefined();
    return path.join(packageDir(pkg!), target!.default);
  }

  test('statically reaches only its workspaces and their declared production dependencies', () => {
    const entry = path.join(repoRoot, 'cli', 'dist', 'main.js');
    expect(existsSync(entry), 'build first: npx tsc -b').toBe(true);
    const seen = new Set<string>();
    const external = new Map<string, string>(); // package -> first importer
    // main.js loads each command lazily; the image runs `gateway`, so walk from that command too.
    const queue = [entry, path.join(repoRoot, 'cli', 'dist', 'commands', 'gateway.js')];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      // Static imports and re-exports only: `await import()` is how optional backends load lazily.
      for (const [, spec] of source.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm)) {
        if (!spec) continue;
        if (spec.startsWith('.')) queue.push(path.resolve(path.dirname(file), spec));
        else if (spec.startsWith('@berth/')) {
          const pkg = spec.split('/').slice(0, 2).join('/');
          if (!IMAGE_WORKSPACES.includes(pkg.replace('@berth/', ''))) external.set(pkg, path.relative(repoRoot, file));
          else queue.push(resolveBerth(spec));
        } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
          const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!external.has(pkg)) external.set(pkg, path.relative(repoRoot, file));
        }
      }
    }
    expect(seen.size).toBeGreaterThan(10);
    const forbidden = [...external.keys()].filter((p) => p.startsWith('@anthropic-ai/') || p === '@berth/agent-image');
    expect(forbidden.map((p) => `${p} (from ${external.get(p)})`)).toEqual([]);
    const undeclared = [...external.keys()].filter((p) => !declared.has(p));
    expect(undeclared.map((p) => `${p} (from ${external.get(p)})`), 'imported but not a production dependency of an image workspace').toEqual([]);
  });
});

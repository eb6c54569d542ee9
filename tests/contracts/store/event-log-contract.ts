// The EventLog contract (gateway/src/store/event-log.ts), written once and run against every
// implementation: order, ids that only grow (a re-attaching relay's re-writes are skipped),
// reads from a cursor (after / at), gaps (malformed, beyond the end, trimmed away), the bound,
// and watch() waking a reader when another writer (another replica) appends.

import { describe, expect, it } from 'vitest';
import type { EventLog, EventLogLimits, LoggedFrame } from '@berth/gateway/store';

export interface EventLogContractOptions {
  name: string;
  /** A fresh, empty log. Two calls with `shared` true see the same data (two replicas). */
  newLog(options: { limits?: Partial<EventLogLimits>; shared?: string }): Promise<EventLog>;
}

const frame = (id: string, event = 'message'): LoggedFrame => ({ id, event, data: JSON.stringify({ id, text: 'ünï\ncode' }) });

export function runEventLogContract(options: EventLogContractOptions): void {
  describe(`EventLog contract: ${options.name}`, () => {
    it('reads what was appended, in order, from the start, after an id, or at an id; last() is the newest id', async () => {
      const log = await options.newLog({});
      expect(await log.last('s1')).toBeNull();
      await log.append('s1', [frame('1:0', 'turn'), frame('1:1'), frame('1:2', 'done')]);
      await log.append('s1', [frame('2:0', 'turn'), frame('2:1')]);
      const all = await log.read('s1', null, 100);
      expect(all).toEqual({ kind: 'frames', frames: [frame('1:0', 'turn'), frame('1:1'), frame('1:2', 'done'), frame('2:0', 'turn'), frame('2:1')], last: '2:1' });
      expect(await log.read('s1', { after: '1:2' }, 100)).toMatchObject({ frames: [frame('2:0', 'turn'), frame('2:1')] });
      expect(await log.read('s1', { at: '2:0' }, 100)).toMatchObject({ frames: [frame('2:0', 'turn'), frame('2:1')] });
      expect(await log.read('s1', { after: '2:1' }, 100)).toEqual({ kind: 'frames', frames: [], last: '2:1' });
      expect(await log.read('s1', null, 2)).toMatchObject({ frames: [frame('1:0', 'turn'), frame('1:1')] });
      expect(await log.last('s1')).toBe('2:1');
      expect(await log.last('s2')).toBeNull();
      await log.close();
    });

    it('ids only grow: a frame at or below the last id is skipped (a re-attaching relay re-writes harmlessly)', async () => {
      const log = await options.newLog({});
      await log.append('s1', [frame('3:0', 'turn'), frame('3:1'), frame('3:2')]);
      await log.append('s1', [{ ...frame('3:2'), data: 'again' }, frame('3:1'), frame('3:3')]);
      await log.append('s1', [frame('2:9')]);
      const read = await log.read('s1', null, 100);
      expect(read.kind === 'frames' && read.frames.map((f) => [f.id, f.data === 'again'])).toEqual([
        ['3:0', false],
        ['3:1', false],
        ['3:2', false],
        ['3:3', false],
      ]);
      await log.close();
    });

    it('a malformed cursor, one beyond the end, or any cursor on an empty log is a gap', async () => {
      const log = await options.newLog({});
      expect(await log.read('s1', { after: '1:1' }, 10)).toEqual({ kind: 'gap' });
      await log.append('s1', [frame('1:0'), frame('1:1')]);
      for (const bad of ['garbage', '', '1', '0:1', '1:-1', '99:1', '1:2']) expect(await log.read('s1', { after: bad }, 10)).toEqual({ kind: 'gap' });
      expect(await log.read('s1', { at: '7:0' }, 10)).toEqual({ kind: 'gap' });
      await log.close();
    });

    it('keeps the newest maxFrames; a cursor whose successors were trimmed is a gap, one after the trim point is not', async () => {
      const log = await options.newLog({ limits: { maxFrames: 3 } });
      await log.append('s1', [frame('1:0'), frame('1:1'), frame('1:2'), frame('1:3')]);
      await log.append('s1', [frame('1:4')]);
      expect(await log.read('s1', null, 10)).toMatchObject({ frames: [frame('1:2'), frame('1:3'), frame('1:4')] });
      expect(await log.read('s1', { after: '1:0' }, 10)).toEqual({ kind: 'gap' });
      expect(await log.read('s1', { at: '1:1' }, 10)).toEqual({ kind: 'gap' });
      expect(await log.read('s1', { after: '1:1' }, 10)).toMatchObject({ frames: [frame('1:2'), frame('1:3'), frame('1:4')] });
      expect(await log.read('s1', { at: '1:3' }, 10)).toMatchObject({ frames: [frame('1:3'), frame('1:4')] });
      await log.close();
    });

    it("watch() wakes a reader when another instance (replica) appends to the session, not for other sessions' appends", async () => {
      const reader = await options.newLog({ shared: 'w' });
      const writer = await options.newLog({ shared: 'w' });
      const woken: string[] = [];
      let resolveWoken!: () => void;
      const wokenOnce = new Promise<void>((resolve) => (resolveWoken = resolve));
      const unwatch = reader.watch('s1', () => {
        woken.push('s1');
        resolveWoken();
      });
      reader.watch('s2', () => woken.push('s2'));
      // The subscription may still be starting: append until the reader hears it (bounded).
      for (let i = 1; woken.length === 0; i++) {
        if (i > 200) throw new Error('watch() never woke the reader after 200 appends');
        await writer.append('s1', [frame(`1:${i}`)]);
        await Promise.race([wokenOnce, new Promise((r) => setTimeout(r, 50))]);
      }
      expect(woken).toContain('s1');
      // Once subscribed, an append wakes that session's watchers only (a reconnect may wake all).
      woken.length = 0;
      let resolveAgain!: () => void;
      const again = new Promise<void>((resolve) => (resolveAgain = resolve));
      const unwatchAgain = reader.watch('s1', () => resolveAgain());
      await writer.append('s1', [frame('9:0')]);
      await again;
      expect(woken).toContain('s1');
      expect(woken).not.toContain('s2');
      unwatchAgain();
      unwatch();
      await reader.close();
      await writer.close();
    });

    it('remove() empties the session log', async () => {
      const log = await options.newLog({});
      await log.append('s1', [frame('1:0')]);
      await log.remove('s1');
      expect(await log.last('s1')).toBeNull();
      expect(await log.read('s1', null, 10)).toEqual({ kind: 'frames', frames: [], last: null });
      await log.close();
    });
  });
}

// The admin CLI's pure helpers: aligned tables and the one-line rendering of a gateway problem
// (what an operator reads when a command fails), including bodies that are not problem+json.

import { expect, test } from 'vitest';
import { problemLine } from '@berth/cli/testing';
import { count, formatFields, formatTable, shortTime } from '@berth/cli/testing';

test('formatTable pads columns to the widest cell, right-aligns numbers, trims line ends', () => {
  const out = formatTable(['ID', 'TURNS', 'SANDBOX'], [['a', '3', 'sb-1'], ['longer-id', '12', '-']]);
  expect(out).toBe(['ID         TURNS  SANDBOX', 'a              3  sb-1', 'longer-id     12  -', ''].join('\n'));
  expect(formatTable(['ID'], [])).toBe('ID\n');
});

test('formatFields aligns values; shortTime and count shorten for reading', () => {
  expect(formatFields([['id', 'x'], ['last active', 'y']])).toBe('id           x\nlast active  y\n');
  expect(shortTime('2026-11-22T23:50:12.345Z')).toBe('2026-11-22 23:50:12Z');
  expect(shortTime(undefined)).toBe('-');
  expect(count(1234567)).toBe('1,234,567');
});

test('problemLine: status, code and detail on one line, whatever the body', () => {
  const body = JSON.stringify({ type: 'https://berth.dev/problems/forbidden', title: 'Not allowed', status: 403, code: 'forbidden', detail: 'admin routes need an admin token' });
  expect(problemLine(403, body)).toBe('403 forbidden: admin routes need an admin token');
  expect(problemLine(404, JSON.stringify({ code: 'not_found', title: 'No such resource' }))).toBe('404 not_found: No such resource');
  expect(problemLine(502, '<html>bad gateway</html>')).toBe('502: no details');
  // Newlines and control characters from a hostile or broken server never split the line.
  expect(problemLine(500, JSON.stringify({ code: 'internal', detail: 'a\nb\r\x1b[31mc' }))).toBe('500 internal: a b [31mc');
});

// Reads token usage out of one model API response while it streams past, without holding it
// back: SSE (`message_start` carries input and cache counts, `message_delta` the output count)
// or a non-streamed JSON body (`usage`). Pure; the model proxy feeds it chunks and records the
// result once. Neighbours: model-proxy.ts (feeds and records), budget.ts (sums for the budget).
//
// What "no double count" means here, and why this is right:
// - Within one response, Messages API usage numbers are cumulative, not increments: a
//   message_delta's output_tokens already includes what message_start reported, and newer API
//   versions repeat input/cache counts in message_delta. So each field is the LARGEST value seen,
//   never a sum of events.
// - Each upstream response is metered exactly once (the proxy records on the first of end,
//   abort or error, never twice).
// - A CLI retry is a new upstream request and a new response; the upstream bills it again, so it
//   is metered again. A response cut off mid-stream is metered with what it reported before the
//   cut (that is what it consumed). Counting each response's own report once is exact; counting
//   the retried turn once would under-bill every retry.

import { SseParser } from '@berth/protocol';
import type { TokenUsage } from '../store/usage-ledger.js';
import { totalTokens } from '../policy/budget.js';

export type MeterFormat = 'sse' | 'json' | 'none';

export interface UsageMeterOptions {
  /** Largest JSON body kept for metering, in bytes. Default 8 MiB: a full 128k-token reply is
   *  far smaller; beyond this the body is still relayed, just not metered (and logged). */
  maxJsonBytes?: number;
}

const FIELDS: ReadonlyArray<[wire: string, field: keyof TokenUsage]> = [
  ['input_tokens', 'inputTokens'],
  ['output_tokens', 'outputTokens'],
  ['cache_creation_input_tokens', 'cacheCreationInputTokens'],
  ['cache_read_input_tokens', 'cacheReadInputTokens'],
];

/** Which parser a response needs, from its Content-Type. */
export function meterFormatFor(contentType: string | undefined): MeterFormat {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'text/event-stream') return 'sse';
  if (type === 'application/json') return 'json';
  return 'none';
}

export class UsageMeter {
  private readonly usage: Partial<TokenUsage> = {};
  private readonly decoder = new TextDecoder();
  private readonly sse: SseParser | undefined;
  private readonly jsonChunks: Buffer[] = [];
  private jsonBytes = 0;
  private readonly maxJsonBytes: number;
  /** Why metering gave up on this response, if it did (the body is relayed regardless). */
  problem: string | undefined;

  constructor(readonly format: MeterFormat, options: UsageMeterOptions = {}) {
    this.maxJsonBytes = options.maxJsonBytes ?? 8 * 1024 * 1024;
    if (format === 'sse') this.sse = new SseParser();
  }

  /** Feeds one relayed chunk. Never throws: a metering problem must not break the stream. */
  push(chunk: Buffer): void {
    if (this.problem !== undefined || this.format === 'none') return;
    if (this.format === 'json') {
      this.jsonBytes += chunk.length;
      if (this.jsonBytes > this.maxJsonBytes) {
        this.problem = 'json body larger than maxJsonBytes';
        this.jsonChunks.length = 0;
      } else this.jsonChunks.push(chunk);
      return;
    }
    try {
      for (const frame of this.sse!.push(this.decoder.decode(chunk, { stream: true }))) this.takeEvent(frame.data);
    } catch {
      this.problem = 'sse line too long';
    }
  }

  /** What this response reported so far (call once at its end, full or partial); null if nothing. */
  result(): TokenUsage | null {
    if (this.format === 'json' && this.problem === undefined && this.jsonChunks.length > 0) {
      const body = safeJson(Buffer.concat(this.jsonChunks).toString('utf8'));
      this.jsonChunks.length = 0;
      if (isRecord(body)) this.merge(body.usage);
    }
    if (Object.keys(this.usage).length === 0) return null;
    return {
      inputTokens: this.usage.inputTokens ?? 0,
      outputTokens: this.usage.outputTokens ?? 0,
      cacheCreationInputTokens: this.usage.cacheCreationInputTokens ?? 0,
      cacheReadInputTokens: this.usage.cacheReadInputTokens ?? 0,
    };
  }

  private takeEvent(data: string): void {
    const event = safeJson(data);
    if (!isRecord(event)) return;
    if (event.type === 'message_start' && isRecord(event.message)) this.merge(event.message.usage);
    else if (event.type === 'message_delta') this.merge(event.usage);
  }

  private merge(usage: unknown): void {
    if (!isRecord(usage)) return;
    for (const [wire, field] of FIELDS) {
      const value = usage[wire];
      if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
        this.usage[field] = Math.max(this.usage[field] ?? 0, Math.floor(value));
      }
    }
  }
}

/** Tokens a usage counts against a budget: every token the upstream processed or produced. */
export { totalTokens };

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

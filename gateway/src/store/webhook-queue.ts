// WebhookQueue: the store port that holds webhook deliveries until a receiver took them, so a
// gateway restart or a replica's death loses none. Implementations: MemoryWebhookQueue
// (store/memory-webhook-queue.ts, one replica) and RedisWebhookQueue
// (store/redis-webhook-queue.ts, every multi-replica deployment); both pass
// tests/contracts/store/webhook-queue-contract.ts. The dispatcher (webhook-dispatcher.ts) is its
// only reader, the sink (webhook-sink.ts) its only writer.
//
// It stores no secret: a delivery names its endpoint by URL, and the dispatcher looks the signing
// secret up in the tenants file at send time.

export interface NewWebhookDelivery {
  /** The Standard Webhooks `webhook-id`: stable across retries, so receivers can deduplicate. */
  id: string;
  tenant: string;
  /** The endpoint's URL as configured; the dispatcher finds its secret by (tenant, url). */
  url: string;
  /** The JSON body, exactly as it is signed and sent. */
  payload: string;
  /** Epoch ms the event happened (for age limits and logs). */
  createdAt: number;
}

export interface ClaimedWebhookDelivery extends NewWebhookDelivery {
  /** This attempt's number, from 1. A claim whose lease ran out still counted as an attempt. */
  attempt: number;
  /** Proof of this claim; ack and reschedule with an older lease do nothing. */
  lease: string;
}

/**
 * Concurrency: every method is atomic in the store. A claimed delivery is invisible to other
 * claims until its lease runs out (`now + leaseMs`); then it is due again and the next claim
 * takes it as a new attempt, so a replica that died mid-send delays a delivery by one lease but
 * never loses it (at-least-once), and two replicas never send the same attempt at once.
 * Time: callers pass `now` (epoch ms); replicas' clocks must agree to well under a lease.
 * Errors: store outages throw (StoreUnavailableError on Redis); expected outcomes are booleans.
 */
export interface WebhookQueue {
  /** Adds a delivery due at `dueAt`. Idempotent on `id`: a second enqueue of the same id is a no-op. */
  enqueue(delivery: NewWebhookDelivery, dueAt: number): Promise<void>;
  /** Takes up to `limit` deliveries due by `now`, earliest first, leasing each for `leaseMs`. */
  claim(now: number, limit: number, leaseMs: number): Promise<ClaimedWebhookDelivery[]>;
  /** Removes a delivery this lease still holds (sent, or given up). False when the lease was lost. */
  ack(id: string, lease: string): Promise<boolean>;
  /** Makes a held delivery due again at `dueAt` (a failed attempt). False when the lease was lost. */
  reschedule(id: string, lease: string, dueAt: number): Promise<boolean>;
  /** Deliveries held, due or not (a gauge and a test's view; O(1)). */
  size(): Promise<number>;
  close(): Promise<void>;
}

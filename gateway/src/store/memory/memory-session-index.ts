// The in-process session table's record map, with the two sorted indexes the listing pages
// from: per tenant by (createdAt, id), and every id in byte order. The indexes live inside the
// map's own set/delete, so every path that adds or drops a record (create, delete, lazy expiry
// in live()) keeps them exact without knowing they exist. A listing page is then two binary
// searches and a walk over what it returns: a one-session tenant never scans the others.
// Indexes are sorted arrays: an insert or removal moves at most the tenant's (or all) entries
// with one memmove (~50 µs at 100,000), and sessions arrive mostly in creation order, which
// appends. A record's tenant, id and createdAt never change after creation (the ports patch
// only activity, turns, SDK id and sandbox), so an entry never needs moving.

import type { SessionRecord } from '../session-records.js';
import type { TenantListingKey } from '../session-listing.js';

export class IndexedSessionMap extends Map<string, SessionRecord> {
  /** Tenant → its sessions' keys, ascending (createdAt, id): the listing walks it from the end. */
  private readonly tenants = new Map<string, TenantListingKey[]>();
  /** Every session id, ascending byte order (ids are ASCII, so UTF-16 order is byte order). */
  private readonly ids: string[] = [];

  override set(id: string, record: SessionRecord): this {
    const previous = super.get(id);
    if (previous) this.unindex(previous);
    super.set(id, record);
    const keys = this.tenants.get(record.tenant) ?? [];
    if (keys.length === 0) this.tenants.set(record.tenant, keys);
    keys.splice(lowerKey(keys, record), 0, { createdAt: record.createdAt, id });
    this.ids.splice(lowerId(this.ids, id), 0, id);
    return this;
  }

  override delete(id: string): boolean {
    const previous = super.get(id);
    if (!previous) return false;
    this.unindex(previous);
    return super.delete(id);
  }

  override clear(): void {
    this.tenants.clear();
    this.ids.length = 0;
    super.clear();
  }

  /**
   * Ids of the tenant's sessions strictly after `after` in newest-first order, at most `count`,
   * without reading anything else. `isLive` may drop the record it is asked about (expiry): the
   * walk runs downwards, so a removal only shifts entries it has already passed.
   */
  tenantPage(tenant: string, after: TenantListingKey | null, count: number, isLive: (id: string) => boolean): string[] {
    const keys = this.tenants.get(tenant);
    const out: string[] = [];
    if (!keys) return out;
    for (let i = (after ? lowerKey(keys, after) : keys.length) - 1; i >= 0 && out.length < count; i--) {
      const id = keys[i]!.id;
      if (isLive(id)) out.push(id);
    }
    return out;
  }

  /**
   * Ids strictly after `cursor` (null: from the start) in byte order, at most `count`. `isLive`
   * may drop the record it is asked about; the walk then stays on the index that slid down.
   */
  idPage(cursor: string | null, count: number, isLive: (id: string) => boolean): string[] {
    const out: string[] = [];
    let i = cursor === null ? 0 : upperId(this.ids, cursor);
    while (i < this.ids.length && out.length < count) {
      const id = this.ids[i]!;
      if (isLive(id)) {
        out.push(id);
        i++;
      } else if (this.ids[i] === id) i++; // not dropped (cannot happen today): step over it
    }
    return out;
  }

  private unindex(record: SessionRecord): void {
    const keys = this.tenants.get(record.tenant);
    if (keys) {
      const at = lowerKey(keys, record);
      if (keys[at]?.id === record.id) keys.splice(at, 1);
      if (keys.length === 0) this.tenants.delete(record.tenant);
    }
    const at = lowerId(this.ids, record.id);
    if (this.ids[at] === record.id) this.ids.splice(at, 1);
  }
}

/** First index whose key is >= `key` in ascending (createdAt, id) order. */
function lowerKey(keys: TenantListingKey[], key: TenantListingKey): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid]!;
    if (k.createdAt < key.createdAt || (k.createdAt === key.createdAt && k.id < key.id)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose id is >= `id`. */
function lowerId(ids: string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose id is > `id`. */
function upperId(ids: string[], id: string): number {
  const at = lowerId(ids, id);
  return ids[at] === id ? at + 1 : at;
}

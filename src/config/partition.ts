import { compileTopicTemplate } from './topic-template.js';

/**
 * Scale-out helpers for the `partition` section: which instance serves a device under `hash`,
 * the index a StatefulSet pod takes from its host name, and the topic filters an instance
 * subscribes to.
 */

/** The default client-id prefix. */
export const CLIENT_ID_PREFIX = 'convwatch';

/**
 * FNV-1a, 32 bits, over the UTF-8 bytes of `text`. Stable across processes, versions and
 * platforms, which is all partitioning needs (it is not a cryptographic hash).
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * The partition (0 … count - 1) that serves `device` under `partition.kind: hash`.
 * @throws RangeError when count is not a positive integer.
 */
export function devicePartition(device: string, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`partition count must be a positive integer, got ${count}`);
  return fnv1a32(device) % count;
}

/**
 * The ordinal a StatefulSet gives its pods, from the host name's first label: `convwatch-3` →
 * 3, `convwatch-3.convwatch.default.svc` → 3; null when the label does not end in `-<digits>`.
 */
export function hostnameOrdinal(hostname: string): number | null {
  const label = hostname.split('.')[0];
  const m = /-(\d{1,9})$/.exec(label);
  return m === null ? null : Number(m[1]);
}

/** The default MQTT client id: `convwatch-<hostname>` plus `-<instanceId>` when one is set. */
export function defaultClientId(hostname: string, instanceId: string | undefined): string {
  const host = hostname.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'host';
  return instanceId === undefined ? `${CLIENT_ID_PREFIX}-${host}` : `${CLIENT_ID_PREFIX}-${host}-${instanceId}`;
}

/** What {@link subscriptionFilters} reads of a configuration (a `Config` is one). */
export interface FilterSource {
  readonly subscriptions: readonly { readonly topic: string }[];
  readonly partition:
    | { readonly kind: 'none' | 'hash' }
    | { readonly kind: 'topics'; readonly filters: readonly string[] }
    | { readonly kind: 'shared'; readonly group: string };
}

/**
 * The filters to subscribe to, without duplicates, in order: the subscription templates'
 * filters (placeholders as `+`), or the partition's own with `kind: topics`; each prefixed with
 * `$share/<group>/` with `kind: shared`.
 */
export function subscriptionFilters(config: FilterSource): string[] {
  const p = config.partition;
  const base = p.kind === 'topics' ? p.filters : config.subscriptions.map((s) => compileTopicTemplate(s.topic).filter);
  const unique = [...new Set(base)];
  return p.kind === 'shared' ? unique.map((f) => `$share/${p.group}/${f}`) : unique;
}

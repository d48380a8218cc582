/** One routing rule: devices whose name matches `pattern` are served by `model`. */
export interface ModelRoute {
  /**
   * Glob over the whole device name: `*` matches any run of characters (also none), `?` exactly
   * one; every other character matches itself (there is no escape, so `*` and `?` cannot be
   * matched literally).
   */
  readonly pattern: string;
  /** Model name. */
  readonly model: string;
}

/** The model serving a device, or null when no pattern matches. Pure. */
export type ModelRouter = (device: string) => string | null;

/**
 * Builds a router from rules tried in order: the first matching pattern wins.
 * @throws Error naming the rule when a pattern or model is not a non-empty string.
 */
export function routeModels(routes: readonly ModelRoute[]): ModelRouter {
  if (!Array.isArray(routes)) throw new Error(`routeModels: routes must be an array, got ${typeof routes}`);
  const rules = routes.map((route, i) => {
    if (typeof route.pattern !== 'string' || route.pattern === '') throw new Error(`routeModels: routes[${i}].pattern must be a non-empty string, got ${JSON.stringify(route.pattern)}`);
    if (typeof route.model !== 'string' || route.model === '') throw new Error(`routeModels: routes[${i}].model must be a non-empty string, got ${JSON.stringify(route.model)}`);
    return { pattern: route.pattern, model: route.model };
  });
  return (device) => {
    for (const rule of rules) if (globMatches(rule.pattern, device)) return rule.model;
    return null;
  };
}

/**
 * Whether `text` matches the glob `pattern` (`*`, `?`, see {@link ModelRoute.pattern}).
 * Greedy with backtracking to the last `*` only: O(|pattern|·|text|) at worst, no regular expression.
 */
export function globMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    const c = pattern[p];
    if (c === '*') {
      star = p++;
      resume = t;
    } else if (c !== undefined && (c === '?' || c === text[t])) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * The device cap: admits up to `maxDevices` devices at once and gives each a slot in
 * `[0, maxDevices)` (lowest free slot first), e.g. its row of a `DetectorBatch`. Released slots
 * are reused, lowest first.
 */
export class DeviceSlots {
  readonly maxDevices: number;
  private readonly slots = new Map<string, number>();
  /** Free slots, lowest on top. */
  private readonly free: number[];

  /** @throws Error when `maxDevices` is not a positive integer. */
  constructor(maxDevices: number) {
    if (!Number.isInteger(maxDevices) || maxDevices <= 0) throw new Error(`DeviceSlots: maxDevices must be a positive integer, got ${maxDevices}`);
    this.maxDevices = maxDevices;
    this.free = Array.from({ length: maxDevices }, (_, i) => maxDevices - 1 - i);
  }

  /** Devices admitted now. */
  get size(): number {
    return this.slots.size;
  }

  /** The device's slot, admitting it if there is room; −1 when the cap is reached. */
  slotOf(device: string): number {
    const known = this.slots.get(device);
    if (known !== undefined) return known;
    const slot = this.free.pop();
    if (slot === undefined) return -1;
    this.slots.set(device, slot);
    return slot;
  }

  /** The device's slot if admitted, else −1; admits nothing. */
  /** Every device with its slot, in allocation order. */
  entries(): IterableIterator<[string, number]> {
    return this.slots.entries();
  }

  peek(device: string): number {
    return this.slots.get(device) ?? -1;
  }

  /** Frees the device's slot; returns it, or −1 if the device was not admitted. */
  release(device: string): number {
    const slot = this.slots.get(device);
    if (slot === undefined) return -1;
    this.slots.delete(device);
    // Keep the free list sorted descending so the lowest slot is reused first.
    let at = this.free.length;
    while (at > 0 && (this.free[at - 1] as number) < slot) at--;
    this.free.splice(at, 0, slot);
    return slot;
  }
}

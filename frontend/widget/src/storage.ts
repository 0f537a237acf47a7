// Browser storage that never throws. Safari's private mode, sandboxed iframes and full quotas
// make localStorage throw on access or on write; the widget then keeps its state in memory for
// this page only, which is the best it can do.

export interface KeyValue {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
  /** false when the browser refused storage and values live in memory only */
  readonly persistent: boolean;
}

function memory(): KeyValue {
  const values = new Map<string, string>();
  return {
    persistent: false,
    get: (key) => values.get(key) ?? null,
    set: (key, value) => void values.set(key, value),
    remove: (key) => void values.delete(key),
  };
}

/** Keys are prefixed so that two inboxes on one site (or two sites on one origin) never mix. */
export function safeStorage(open: () => Storage | null | undefined, prefix: string): KeyValue {
  const fallback = memory();
  let store: Storage | null = null;
  try {
    const candidate = open();
    if (candidate) {
      const probe = `${prefix}probe`;
      candidate.setItem(probe, "1");
      candidate.removeItem(probe);
      store = candidate;
    }
  } catch {
    store = null;
  }
  if (!store) return fallback;
  const real = store;
  return {
    persistent: true,
    get(key) {
      try {
        return real.getItem(prefix + key) ?? fallback.get(key);
      } catch {
        return fallback.get(key);
      }
    },
    set(key, value) {
      fallback.set(key, value); // a write that fails later (quota) still holds for this page
      try {
        real.setItem(prefix + key, value);
      } catch {
        /* kept in memory */
      }
    },
    remove(key) {
      fallback.remove(key);
      try {
        real.removeItem(prefix + key);
      } catch {
        /* nothing to do */
      }
    },
  };
}

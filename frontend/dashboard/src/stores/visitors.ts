// Live website visitors (W3): GET …/visitors/live once, then kept live from the stream —
// visitor.updated inserts or replaces a visit, visitor.left removes it after a grace period
// (a page navigation closes the widget's socket and opens a new one: "left" then "updated").
import { defineStore } from "pinia";
import { computed, ref, watch } from "vue";
import { send } from "@/api/client";
import type { Contact, LiveVisitors, StreamEvent, Visit } from "@/api/types";
import { useSession } from "./session";

/** How long a visitor who left stays listed: the server counts the same 30 s as "still there". */
export const LEFT_GRACE_MS = 30_000;
/** While the list is shown it is read again this often: a visitor whose socket died with the
 * server sends no "left", and the server drops visits not seen for 10 minutes. */
export const REFRESH_MS = 120_000;

export interface LiveVisitor {
  visit: Visit;
  /** When this browser received the visit (ms): the time on site ticks on from here. */
  receivedAt: number;
  /** Left less than LEFT_GRACE_MS ago; removed when the grace ends unless it comes back. */
  leaving: boolean;
}

/** Newest activity first; the higher id first on a tie, so the order never flickers. */
export function byActivity(a: LiveVisitor, b: LiveVisitor): number {
  const d = new Date(b.visit.last_seen_at).getTime() - new Date(a.visit.last_seen_at).getTime();
  return d !== 0 ? d : b.visit.id - a.visit.id;
}

export const useVisitors = defineStore("visitors", () => {
  const byId = ref(new Map<number, LiveVisitor>());
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref(false);
  /** Screens showing the list now; a reconnect reloads only while someone looks. */
  const watchers = ref(0);
  const timers = new Map<number, ReturnType<typeof setTimeout>>();
  /** id → the event counter when a stream event last touched that visit. */
  const touched = new Map<number, number>();
  let eventCounter = 0;
  let subscribed = false;
  let refresher: ReturnType<typeof setInterval> | null = null;

  const list = computed<LiveVisitor[]>(() => [...byId.value.values()].sort(byActivity));

  function cancelRemoval(id: number): void {
    const timer = timers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    timers.delete(id);
  }

  function applyUpdated(visit: Visit, now: number = Date.now()): void {
    eventCounter += 1;
    touched.set(visit.id, eventCounter);
    cancelRemoval(visit.id);
    // A new visit of the same contact on the same site replaces the older one (its "left" may
    // have been lost with a dropped socket): one row per visitor and site.
    for (const [id, entry] of byId.value)
      if (id !== visit.id && entry.visit.contact.id === visit.contact.id && entry.visit.inbox_id === visit.inbox_id) {
        cancelRemoval(id);
        byId.value.delete(id);
      }
    byId.value.set(visit.id, { visit, receivedAt: now, leaving: false });
  }

  function applyLeft(visitId: number): void {
    eventCounter += 1;
    touched.set(visitId, eventCounter);
    markLeaving(visitId);
  }

  /** Greys the row out and removes it when the grace ends, unless the visitor comes back. */
  function markLeaving(visitId: number): void {
    const entry = byId.value.get(visitId);
    if (!entry) return;
    entry.leaving = true;
    cancelRemoval(visitId);
    timers.set(
      visitId,
      setTimeout(() => {
        timers.delete(visitId);
        const current = byId.value.get(visitId);
        if (current?.leaving) byId.value.delete(visitId);
      }, LEFT_GRACE_MS),
    );
  }

  /** A renamed or (un)blocked contact: its row shows the new name at once. */
  function applyContact(contact: Pick<Contact, "id" | "name" | "email"> & { blocked_at?: string | null }): void {
    for (const entry of byId.value.values()) {
      if (entry.visit.contact.id !== contact.id) continue;
      const blocked = contact.blocked_at === undefined ? entry.visit.contact.blocked : contact.blocked_at !== null;
      entry.visit = { ...entry.visit, contact: { ...entry.visit.contact, name: contact.name, email: contact.email, blocked } };
    }
  }

  async function load(): Promise<void> {
    subscribe();
    if (loading.value) return;
    loading.value = true;
    error.value = false;
    const mark = eventCounter;
    // Only events after this mark matter to this load (and to any later one): forget older ones.
    touched.clear();
    try {
      const ws = useSession().workspaceId;
      const body = (await send("GET", `/api/v1/workspaces/${ws}/visitors/live`)) as LiveVisitors;
      const now = Date.now();
      const fresh = new Set(body.visitors.map((v) => v.id));
      // What the stream said while the page was on its way is newer than the page.
      for (const id of [...byId.value.keys()])
        if (!fresh.has(id) && (touched.get(id) ?? 0) <= mark) {
          cancelRemoval(id);
          byId.value.delete(id);
        }
      for (const visit of body.visitors) {
        if ((touched.get(visit.id) ?? 0) > mark) continue;
        const known = byId.value.get(visit.id);
        byId.value.set(visit.id, { visit, receivedAt: now, leaving: false });
        // The server lists a visitor who left less than 30 s ago (maybe a page load in progress).
        if (visit.left_at !== null) {
          if (known?.leaving) byId.value.get(visit.id)!.leaving = true; // its grace already runs
          else markLeaving(visit.id);
        } else cancelRemoval(visit.id);
      }
      loaded.value = true;
    } catch {
      error.value = true;
    } finally {
      loading.value = false;
    }
  }

  function subscribe(): void {
    if (subscribed) return;
    subscribed = true;
    const session = useSession();
    let off: (() => void)[] = [];
    watch(
      () => session.stream,
      (stream) => {
        for (const f of off) f();
        off = stream
          ? [
              stream.on("visitor.updated", (e: StreamEvent) => {
                const visit = (e.data as { visit?: Visit }).visit;
                if (visit && typeof visit.id === "number") applyUpdated(visit);
              }),
              stream.on("visitor.left", (e: StreamEvent) => {
                const id = (e.data as { visit_id?: unknown }).visit_id;
                if (typeof id === "number") applyLeft(id);
              }),
              stream.on("contact.updated", (e: StreamEvent) => {
                const c = (e.data as { contact?: Contact }).contact;
                if (c) applyContact(c);
              }),
            ]
          : [];
      },
      { immediate: true },
    );
    // Events missed while the socket was down: read the list again when it is back.
    watch(
      () => session.online,
      (online, was) => {
        if (online && was === false && loaded.value && watchers.value > 0) void load();
      },
    );
  }

  /** The visitors screen calls this while it is shown. */
  function watchList(): () => void {
    watchers.value += 1;
    void load();
    refresher ??= setInterval(() => void load(), REFRESH_MS);
    return () => {
      watchers.value = Math.max(0, watchers.value - 1);
      if (watchers.value === 0 && refresher) {
        clearInterval(refresher);
        refresher = null;
      }
    };
  }

  subscribe();

  return { byId, list, loaded, loading, error, load, subscribe, watchList, applyUpdated, applyLeft, applyContact };
});

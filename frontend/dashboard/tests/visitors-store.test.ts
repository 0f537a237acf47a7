// The live visitors store: the list from GET …/visitors/live, kept live from visitor.updated
// (insert or replace), visitor.left (removed after the 30 s grace unless the visitor comes back:
// a page navigation is "left" then "updated"), newest activity first. The HTTP API is a fake
// `fetch`; the stream is the real Stream class fed with dispatch().
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Visit } from "@/api/types";
import { Stream } from "@/realtime/socket";
import { useSession } from "@/stores/session";
import { LEFT_GRACE_MS, REFRESH_MS, useVisitors } from "@/stores/visitors";
import { visit } from "./fixtures";

let answer: () => Promise<{ visitors: Visit[] }>;
const calls: string[] = [];

function setup(): { store: ReturnType<typeof useVisitors>; stream: Stream } {
  setActivePinia(createPinia());
  const session = useSession();
  session.workspaceId = 1;
  const stream = new Stream(1);
  session.stream = stream;
  return { store: useVisitors(), stream };
}

function updated(stream: Stream, v: Visit): void {
  stream.dispatch({ seq: null, type: "visitor.updated", workspace_id: 1, inbox_id: v.inbox_id, data: { visit: v } });
}

function left(stream: Stream, id: number): void {
  stream.dispatch({ seq: null, type: "visitor.left", workspace_id: 1, inbox_id: 2, data: { visit_id: id } });
}

const ids = (store: ReturnType<typeof useVisitors>): number[] => store.list.map((r) => r.visit.id);

beforeEach(() => {
  calls.length = 0;
  answer = async () => ({ visitors: [] });
  vi.stubGlobal("fetch", async (input: RequestInfo | URL) => {
    calls.push(String(input));
    const body = await answer();
    return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
  });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("live visitors store", () => {
  it("loads the live list, newest activity first", async () => {
    const { store } = setup();
    answer = async () => ({
      visitors: [
        visit(1, { last_seen_at: "2026-11-24T17:01:00+00:00" }),
        visit(2, { last_seen_at: "2026-11-24T17:09:00+00:00" }),
        visit(3, { last_seen_at: "2026-11-24T17:05:00+00:00" }),
      ],
    });
    await store.load();
    expect(calls).toEqual(["/api/v1/workspaces/1/visitors/live"]);
    expect(store.loaded).toBe(true);
    expect(ids(store)).toEqual([2, 3, 1]);
  });

  it("inserts a new visitor and replaces a known one, reordering by activity", async () => {
    const { store, stream } = setup();
    answer = async () => ({ visitors: [visit(1, { last_seen_at: "2026-11-24T17:05:00+00:00" }), visit(2, { last_seen_at: "2026-11-24T17:04:00+00:00" })] });
    await store.load();
    updated(stream, visit(3, { last_seen_at: "2026-11-24T17:06:00+00:00" }));
    expect(ids(store)).toEqual([3, 1, 2]);
    updated(stream, visit(2, { last_seen_at: "2026-11-24T17:07:00+00:00", current_title: "Checkout", page_count: 5 }));
    expect(ids(store)).toEqual([2, 3, 1]);
    expect(store.byId.get(2)?.visit.current_title).toBe("Checkout");
    expect(store.list).toHaveLength(3);
  });

  it("keeps a visitor who left for the grace period and drops them after it", async () => {
    vi.useFakeTimers();
    const { store, stream } = setup();
    updated(stream, visit(1));
    updated(stream, visit(2));
    left(stream, 1);
    expect(store.byId.get(1)?.leaving).toBe(true);
    expect(ids(store)).toContain(1);
    vi.advanceTimersByTime(LEFT_GRACE_MS - 1);
    expect(ids(store)).toContain(1);
    vi.advanceTimersByTime(1);
    expect(ids(store)).toEqual([2]);
  });

  it("a visitor the server lists as just left is greyed out and goes after the grace", async () => {
    vi.useFakeTimers();
    const { store } = setup();
    answer = async () => ({ visitors: [visit(1, { left_at: "2026-11-24T17:05:00+00:00" }), visit(2)] });
    await store.load();
    expect(store.byId.get(1)?.leaving).toBe(true);
    expect(store.byId.get(2)?.leaving).toBe(false);
    vi.advanceTimersByTime(LEFT_GRACE_MS);
    expect(ids(store)).toEqual([2]);
  });

  it("a page navigation (left, then updated) keeps the visitor", () => {
    vi.useFakeTimers();
    const { store, stream } = setup();
    updated(stream, visit(1, { current_title: "Home" }));
    left(stream, 1);
    updated(stream, visit(1, { current_title: "Shoes", last_seen_at: "2026-11-24T17:06:00+00:00" }));
    vi.advanceTimersByTime(LEFT_GRACE_MS * 2);
    expect(store.byId.get(1)?.leaving).toBe(false);
    expect(store.byId.get(1)?.visit.current_title).toBe("Shoes");
  });

  it("a new visit of the same contact on the same site replaces the old row", () => {
    const { store, stream } = setup();
    const contact = { id: 77, name: "Ann", email: null, blocked: false };
    updated(stream, visit(1, { contact }));
    updated(stream, visit(2, { contact, inbox_id: 3 }));
    updated(stream, visit(4, { contact, last_seen_at: "2026-11-24T17:30:00+00:00" }));
    expect(ids(store).sort()).toEqual([2, 4]);
  });

  it("ignores a left event for a visitor it does not list", () => {
    const { store, stream } = setup();
    left(stream, 99);
    expect(store.list).toEqual([]);
  });

  it("events that arrive while the list loads win over the older page", async () => {
    const { store, stream } = setup();
    let release: (v: { visitors: Visit[] }) => void = () => undefined;
    answer = () => new Promise((resolve) => (release = resolve));
    updated(stream, visit(5));
    const loading = store.load();
    updated(stream, visit(1, { current_title: "Newer", last_seen_at: "2026-11-24T17:08:00+00:00" }));
    left(stream, 2);
    release({ visitors: [visit(1, { current_title: "Older" }), visit(2), visit(3)] });
    await loading;
    expect(store.byId.get(1)?.visit.current_title).toBe("Newer");
    expect(store.byId.has(2)).toBe(false); // never listed before it left
    expect(store.byId.has(3)).toBe(true);
    expect(store.byId.has(5)).toBe(false); // gone from the server's list, untouched since the load began
  });

  it("shows a renamed contact's new name (generated names are replaced by real ones)", () => {
    const { store, stream } = setup();
    updated(stream, visit(1));
    stream.dispatch({
      seq: 4,
      type: "contact.updated",
      workspace_id: 1,
      inbox_id: 2,
      data: { contact: { id: 701, name: "Ayşe", email: "ayse@example.com", phone: null, attributes: {}, created_at: "", blocked_at: "2026-11-24T17:10:00+00:00" } },
    });
    expect(store.byId.get(1)?.visit.contact).toMatchObject({ name: "Ayşe", email: "ayse@example.com", blocked: true });
  });

  it("reads the list again now and then while it is shown, and not after", async () => {
    vi.useFakeTimers();
    const { store } = setup();
    const stop = store.watchList();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(REFRESH_MS);
    expect(calls).toHaveLength(2);
    stop();
    await vi.advanceTimersByTimeAsync(REFRESH_MS * 3);
    expect(calls).toHaveLength(2);
  });

  it("reloads the list after the socket comes back while the page is shown", async () => {
    const { store } = setup();
    const session = useSession();
    session.online = true;
    const stop = store.watchList();
    await vi.waitFor(() => expect(store.loaded).toBe(true));
    expect(calls).toHaveLength(1);
    session.online = false;
    await Promise.resolve();
    session.online = true;
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    stop();
    session.online = false;
    await Promise.resolve();
    session.online = true;
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toHaveLength(2);
  });
});

// Presence: auto-away after idle minutes (fake timers), back online on activity only when the
// away was automatic, teammates' presence from the stream.
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Member } from "@/api/types";
import { Stream } from "@/realtime/socket";
import { usePresence } from "@/stores/presence";
import { useSession } from "@/stores/session";
import { useWorkspace } from "@/stores/workspace";

const sendMock = vi.hoisted(() => vi.fn());
vi.mock("@/api/client", () => ({
  send: sendMock,
  setUnauthorizedHandler: () => undefined,
  ApiError: class extends Error {},
}));

function member(id: number, over: Partial<Member> = {}): Member {
  return {
    user_id: id,
    email: `u${id}@example.test`,
    name: `User ${id}`,
    display_name: null,
    avatar_url: null,
    role: "agent",
    is_active: true,
    availability: "online",
    status: "offline",
    team_ids: [],
    inbox_ids: [],
    ...over,
  };
}

const puts = (): string[] => sendMock.mock.calls.filter((c) => c[0] === "PUT").map((c) => (c[2] as { status: string }).status);
let presence: ReturnType<typeof usePresence>;
let target: EventTarget;

beforeEach(() => {
  vi.useFakeTimers();
  setActivePinia(createPinia());
  sendMock.mockReset();
  sendMock.mockResolvedValue(null);
  const session = useSession();
  session.me = { id: 1, email: "", name: "Me", display_name: null, locale: "en", avatar_url: null, preferences: {} as never, workspaces: [] };
  session.workspaceId = 7;
  useWorkspace().members = [member(1), member(2)];
  presence = usePresence();
  target = new EventTarget();
});

afterEach(() => {
  presence.stopIdle();
  vi.useRealTimers();
});

describe("auto-away", () => {
  it("goes away after the idle minutes and comes back on activity", async () => {
    presence.watchIdle(2, target);
    vi.advanceTimersByTime(2 * 60_000 - 1000);
    expect(presence.myStatus).toBe("online");
    expect(puts()).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(presence.myStatus).toBe("away");
    expect(presence.automatic).toBe(true);
    expect(sendMock).toHaveBeenCalledWith("PUT", "/api/v1/workspaces/7/presence", { status: "away" });
    target.dispatchEvent(new Event("mousemove"));
    expect(presence.myStatus).toBe("online");
    expect(presence.automatic).toBe(false);
    expect(puts()).toEqual(["away", "online"]);
  });

  it("counts idle time from the last activity", () => {
    presence.watchIdle(1, target);
    vi.advanceTimersByTime(50_000);
    target.dispatchEvent(new Event("keydown"));
    vi.advanceTimersByTime(50_000);
    expect(presence.myStatus).toBe("online");
    vi.advanceTimersByTime(10_001);
    expect(presence.myStatus).toBe("away");
  });

  it("does not undo an away the agent chose", async () => {
    presence.watchIdle(1, target);
    await presence.setStatus("away");
    vi.advanceTimersByTime(5 * 60_000);
    target.dispatchEvent(new Event("mousedown"));
    expect(presence.myStatus).toBe("away");
    expect(puts()).toEqual(["away"]);
  });

  it("never sets an offline agent away", () => {
    presence.myStatus = "offline";
    presence.watchIdle(1, target);
    vi.advanceTimersByTime(3 * 60_000);
    expect(presence.myStatus).toBe("offline");
    expect(puts()).toEqual([]);
  });

  it("is off at 0 minutes and after stopIdle", () => {
    presence.watchIdle(0, target);
    vi.advanceTimersByTime(60 * 60_000);
    expect(presence.myStatus).toBe("online");
    presence.watchIdle(1, target);
    presence.stopIdle();
    vi.advanceTimersByTime(60 * 60_000);
    expect(puts()).toEqual([]);
  });

  it("goes back to the previous status when the server refuses", async () => {
    sendMock.mockRejectedValueOnce(new Error("nope"));
    await presence.setStatus("offline");
    expect(presence.myStatus).toBe("online");
    expect(presence.error).toBe("nope");
  });
});

describe("teammates", () => {
  it("applies presence.updated events to the members", () => {
    const stream = new Stream(7);
    presence.attach(stream);
    stream.dispatch({ seq: null, type: "presence.updated", workspace_id: 7, inbox_id: null, data: { user_id: 2, status: "away" } });
    expect(useWorkspace().memberById.get(2)?.status).toBe("away");
    expect(presence.statusOf(2)).toBe("away");
    stream.dispatch({ seq: null, type: "presence.updated", workspace_id: 7, inbox_id: null, data: { user_id: 2, status: "bogus" } });
    expect(presence.statusOf(2)).toBe("away");
  });

  it("loads who is online, and my own availability from the members list", async () => {
    useWorkspace().members = [member(1, { availability: "away" }), member(2)];
    sendMock.mockResolvedValueOnce({ agents: [{ user_id: 2, status: "online" }] });
    await presence.load();
    expect(sendMock).toHaveBeenCalledWith("GET", "/api/v1/workspaces/7/presence");
    expect(presence.myStatus).toBe("away");
    expect(useWorkspace().memberById.get(2)?.status).toBe("online");
    expect(useWorkspace().memberById.get(1)?.status).toBe("away");
  });
});

// Presence (A6): my own availability (online / away / offline), teammates' presence kept live from
// the stream, and auto-away after the idle minutes the agent chose in their preferences.
import { defineStore } from "pinia";
import { ref } from "vue";
import { send } from "@/api/client";
import type { Presence, StreamEvent } from "@/api/types";
import type { Stream } from "@/realtime/socket";
import { useSession } from "./session";
import { useWorkspace } from "./workspace";

const ACTIVITY_EVENTS = ["mousemove", "mousedown", "keydown", "wheel", "touchstart", "focus"] as const;

export const usePresence = defineStore("presence", () => {
  /** My chosen availability. */
  const myStatus = ref<Presence>("online");
  /** True while "away" was set by the idle timer rather than by the agent. */
  const automatic = ref(false);
  /** Everyone's presence as last heard, by user id (also copied onto useWorkspace().members). */
  const statuses = ref<Record<number, Presence>>({});
  const error = ref<string | null>(null);

  let idleMs = 0;
  let lastActivity = Date.now();
  let idleTimer: ReturnType<typeof setTimeout> | null = null;
  let detachIdle: (() => void) | null = null;

  function meId(): number | null {
    return useSession().me?.id ?? null;
  }

  function apply(userId: number, status: Presence): void {
    statuses.value = { ...statuses.value, [userId]: status };
    useWorkspace().setPresence(userId, status);
  }

  /** Copies every known status onto the workspace's members (after they were (re)loaded). */
  function applyAll(): void {
    const ws = useWorkspace();
    for (const [id, status] of Object.entries(statuses.value)) ws.setPresence(Number(id), status);
  }

  /** GET …/presence: who is online now; my own availability comes from the members list. */
  async function load(): Promise<void> {
    const ws = useWorkspace();
    const me = meId();
    const mine = me !== null ? ws.memberById.get(me)?.availability : undefined;
    if (mine) myStatus.value = mine;
    try {
      const body = (await send("GET", `${ws.base()}/presence`)) as { agents?: { user_id: number; status: Presence }[] };
      for (const a of body.agents ?? []) apply(a.user_id, a.status);
    } catch {
      // Presence is a nicety: the stream fills it in as agents come and go.
    }
    if (me !== null) apply(me, myStatus.value);
  }

  function onEvent(event: StreamEvent): void {
    const userId = Number(event.data.user_id);
    const status = event.data.status as Presence;
    if (!Number.isFinite(userId) || !["online", "away", "offline"].includes(status)) return;
    apply(userId, status);
    // My own socket only hears "offline" for me when I chose it (another tab, for instance).
    if (userId === meId()) {
      myStatus.value = status;
      if (status !== "away") automatic.value = false;
    }
  }

  function attach(stream: Stream): () => void {
    return stream.on("presence.updated", onEvent);
  }

  /** PUT …/presence. `auto` marks an away set by the idle timer, undone by the next activity. */
  async function setStatus(status: Presence, auto = false): Promise<void> {
    const previous = myStatus.value;
    myStatus.value = status;
    automatic.value = auto && status === "away";
    const me = meId();
    if (me !== null) apply(me, status);
    error.value = null;
    try {
      await send("PUT", `${useWorkspace().base()}/presence`, { status });
    } catch (e) {
      myStatus.value = previous;
      if (me !== null) apply(me, previous);
      error.value = e instanceof Error ? e.message : String(e);
    }
  }

  function scheduleIdle(delay: number): void {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(checkIdle, delay);
  }

  function checkIdle(): void {
    idleTimer = null;
    if (!idleMs) return;
    const remaining = lastActivity + idleMs - Date.now();
    if (remaining > 0) {
      scheduleIdle(remaining);
      return;
    }
    if (myStatus.value === "online") void setStatus("away", true);
  }

  /** Any mouse or keyboard activity: resets the idle clock and ends an automatic away. */
  function activity(): void {
    lastActivity = Date.now();
    if (automatic.value && myStatus.value === "away") void setStatus("online");
    if (idleMs && !idleTimer) scheduleIdle(idleMs);
  }

  /** Starts (or restarts with new minutes) the idle watch; 0 minutes turns auto-away off. */
  function watchIdle(minutes: number, target: EventTarget = window): void {
    stopIdle();
    idleMs = Math.max(0, minutes) * 60_000;
    if (!idleMs) return;
    lastActivity = Date.now();
    const handler = (): void => activity();
    for (const type of ACTIVITY_EVENTS) target.addEventListener(type, handler, { passive: true });
    const visible = (): void => {
      if (!document.hidden) activity();
    };
    document.addEventListener("visibilitychange", visible);
    detachIdle = () => {
      for (const type of ACTIVITY_EVENTS) target.removeEventListener(type, handler);
      document.removeEventListener("visibilitychange", visible);
    };
    scheduleIdle(idleMs);
  }

  function stopIdle(): void {
    detachIdle?.();
    detachIdle = null;
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    idleMs = 0;
  }

  function statusOf(userId: number): Presence {
    return statuses.value[userId] ?? useWorkspace().memberById.get(userId)?.status ?? "offline";
  }

  return { myStatus, automatic, statuses, error, load, applyAll, onEvent, attach, setStatus, activity, watchIdle, stopIdle, statusOf };
});

// Who is signed in, in which workspace, and the one websocket of this tab.
import { defineStore } from "pinia";
import { computed, ref, shallowRef } from "vue";
import { send, setUnauthorizedHandler } from "@/api/client";
import type { Me, Preferences, Role } from "@/api/types";
import { applyLanguage, isLanguage } from "@/i18n";
import { Stream } from "@/realtime/socket";

const DEFAULT_PREFERENCES: Preferences = {
  theme: "system",
  sound: true,
  browser_notifications: true,
  notify_on: ["new_conversation", "new_message", "mention", "assignment"],
  auto_away_minutes: 10,
  hotkeys: true,
};

export const useSession = defineStore("session", () => {
  const me = ref<Me | null>(null);
  const workspaceId = ref<number | null>(null);
  const stream = shallowRef<Stream | null>(null);
  const online = ref(false);
  /** Set at the first connection: the "reconnecting" banner is for drops, not for the start. */
  const everOnline = ref(false);
  const loaded = ref(false);

  const role = computed<Role | null>(
    () => me.value?.workspaces.find((w) => w.id === workspaceId.value)?.role ?? null,
  );
  const isAdmin = computed(() => role.value === "administrator");
  const preferences = computed<Preferences>(() => ({ ...DEFAULT_PREFERENCES, ...(me.value?.preferences ?? {}) }));

  /** Loads the signed-in agent; false when there is no session. */
  async function load(): Promise<boolean> {
    try {
      me.value = (await send("GET", "/api/v1/me")) as Me;
    } catch {
      me.value = null;
    }
    loaded.value = true;
    if (!me.value) return false;
    if (isLanguage(me.value.locale)) applyLanguage(me.value.locale);
    applyTheme(preferences.value.theme);
    const stored = Number(localStorage.getItem("frontdesk.workspace"));
    const ids = me.value.workspaces.map((w) => w.id);
    workspaceId.value = ids.includes(stored) ? stored : (ids[0] ?? null);
    return true;
  }

  function connect(): Stream | null {
    if (workspaceId.value === null) return null;
    if (stream.value) return stream.value;
    const s = new Stream(workspaceId.value);
    s.onStatus = (value) => {
      online.value = value;
      if (value) everOnline.value = true;
    };
    s.start();
    stream.value = s;
    return s;
  }

  async function login(email: string, password: string): Promise<void> {
    await send("POST", "/api/v1/auth/login", { email, password });
    await load();
  }

  async function logout(): Promise<void> {
    try {
      await send("POST", "/api/v1/auth/logout");
    } finally {
      reset();
    }
  }

  function reset(): void {
    stream.value?.stop();
    stream.value = null;
    me.value = null;
    workspaceId.value = null;
  }

  function switchWorkspace(id: number): void {
    localStorage.setItem("frontdesk.workspace", String(id));
    location.assign("/");
  }

  setUnauthorizedHandler(() => {
    if (!me.value) return;
    reset();
    location.assign("/login");
  });

  return { me, workspaceId, stream, online, everOnline, loaded, role, isAdmin, preferences, load, connect, login, logout, reset, switchWorkspace };
});

export function applyTheme(theme: Preferences["theme"]): void {
  const dark = theme === "dark" || (theme === "system" && matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
}

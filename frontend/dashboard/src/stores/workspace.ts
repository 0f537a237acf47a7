// The workspace's slow-changing objects, loaded once per tab: members, inboxes, teams, labels,
// canned replies. Screens read them to turn ids into names.
import { defineStore } from "pinia";
import { computed, ref, watch } from "vue";
import { send } from "@/api/client";
import type { CannedResponse, Inbox, Label, Member, Presence, Team } from "@/api/types";
import { useSession } from "./session";

export const useWorkspace = defineStore("workspace", () => {
  const members = ref<Member[]>([]);
  const inboxes = ref<Inbox[]>([]);
  const teams = ref<Team[]>([]);
  const labels = ref<Label[]>([]);
  const canned = ref<CannedResponse[]>([]);
  const loaded = ref(false);

  const memberById = computed(() => new Map(members.value.map((m) => [m.user_id, m])));
  const inboxById = computed(() => new Map(inboxes.value.map((i) => [i.id, i])));
  const teamById = computed(() => new Map(teams.value.map((t) => [t.id, t])));

  function base(): string {
    return `/api/v1/workspaces/${useSession().workspaceId}`;
  }

  async function load(): Promise<void> {
    const b = base();
    const [m, i, t, l, c] = await Promise.all([
      send("GET", `${b}/members`),
      send("GET", `${b}/inboxes`),
      send("GET", `${b}/teams`),
      send("GET", `${b}/labels`),
      send("GET", `${b}/canned-responses`),
    ]);
    members.value = m as Member[];
    inboxes.value = i as Inbox[];
    teams.value = t as Team[];
    labels.value = l as Label[];
    canned.value = c as CannedResponse[];
    loaded.value = true;
  }

  function memberName(id: number | null | undefined): string {
    if (id === null || id === undefined) return "";
    const m = memberById.value.get(id);
    return m ? m.display_name || m.name : `#${id}`;
  }

  function setPresence(userId: number, status: Presence): void {
    const m = memberById.value.get(userId);
    if (m) m.status = status;
  }

  // Keep the label and team lists current when another administrator changes them.
  const session = useSession();
  let off: (() => void)[] = [];
  watch(
    () => session.stream,
    (stream) => {
      for (const f of off) f();
      off = stream
        ? [
            stream.on("label.updated", (e) => {
              const label = e.data.label as Label;
              labels.value = labels.value.map((l) => (l.id === label.id ? label : l));
            }),
            stream.on("label.deleted", (e) => {
              const label = e.data.label as Label;
              labels.value = labels.value.filter((l) => l.id !== label.id);
            }),
            stream.on("team.deleted", (e) => {
              teams.value = teams.value.filter((t) => t.id !== e.data.team_id);
            }),
            // The provider's monthly quota as just read: the administrators' banner shows it.
            stream.on("inbox.quota_warning", (e) => {
              const id = Number(e.data.inbox_id);
              inboxes.value = inboxes.value.map((i) =>
                i.id === id ? { ...i, settings: { ...(i.settings ?? {}), quota: e.data.quota } } : i,
              );
            }),
          ]
        : [];
    },
    { immediate: true },
  );

  return { members, inboxes, teams, labels, canned, loaded, memberById, inboxById, teamById, base, load, memberName, setPresence };
});

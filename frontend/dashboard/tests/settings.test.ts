// Preferences: the language applies and saves at once; Save sends the preferences and updates
// useSession().me; the profile saves name and display name.
import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryHistory, createRouter } from "vue-router";
import type { Me } from "@/api/types";
import { applyLanguage, i18n } from "@/i18n";
import { useSession } from "@/stores/session";
import PreferencesSettings from "@/views/settings/PreferencesSettings.vue";
import ProfileSettings from "@/views/settings/ProfileSettings.vue";

const sendMock = vi.hoisted(() => vi.fn());
vi.mock("@/api/client", () => ({
  send: sendMock,
  setUnauthorizedHandler: () => undefined,
  ApiError: class extends Error {},
}));

const ME: Me = {
  id: 1,
  email: "me@example.test",
  name: "Ada Agent",
  display_name: null,
  locale: "en",
  avatar_url: null,
  preferences: { theme: "light", sound: true, browser_notifications: true, notify_on: ["new_conversation", "mention"], auto_away_minutes: 10, hotkeys: true },
  workspaces: [{ id: 7, name: "W", role: "agent" }],
};

function mountIt(component: typeof PreferencesSettings) {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/:p(.*)*", component: { template: "<div />" } }] });
  return mount(component, { global: { plugins: [i18n, router] } });
}

beforeEach(() => {
  setActivePinia(createPinia());
  applyLanguage("en");
  sendMock.mockReset();
  sendMock.mockResolvedValue(null);
  const session = useSession();
  session.me = structuredClone(ME);
  session.workspaceId = 7;
});

describe("preferences", () => {
  it("switches the language at once and saves it", async () => {
    const wrapper = mountIt(PreferencesSettings);
    await wrapper.find('[data-testid="pref-language"]').setValue("fa");
    await flushPromises();
    expect(document.documentElement.dir).toBe("rtl");
    expect(i18n.global.locale.value).toBe("fa");
    expect(sendMock).toHaveBeenCalledWith("PATCH", "/api/v1/me", { locale: "fa" });
    expect(useSession().me?.locale).toBe("fa");
    applyLanguage("en");
  });

  it("saves the edited preferences and updates the session", async () => {
    const wrapper = mountIt(PreferencesSettings);
    await wrapper.find('[data-testid="pref-sound"]').setValue(false);
    await wrapper.find('[data-testid="pref-notify-assignment"]').setValue(true);
    await wrapper.find('[data-testid="pref-notify-mention"]').setValue(false);
    await wrapper.find('[data-testid="pref-auto-away"]').setValue("25");
    await wrapper.find('[data-testid="pref-theme-dark"]').trigger("click");
    expect(document.documentElement.dataset.theme).toBe("dark");
    await wrapper.find('[data-testid="prefs-save"]').trigger("click");
    await flushPromises();
    const [method, url, body] = sendMock.mock.calls.at(-1)!;
    expect([method, url]).toEqual(["PATCH", "/api/v1/me"]);
    expect(body.preferences).toMatchObject({ sound: false, auto_away_minutes: 25, theme: "dark", notify_on: ["new_conversation", "assignment"] });
    expect(useSession().preferences).toMatchObject({ sound: false, auto_away_minutes: 25, theme: "dark" });
    expect(wrapper.find('[data-testid="prefs-saved"]').exists()).toBe(true);
  });

  it("refuses an auto-away outside 0–480 without calling the server", async () => {
    const wrapper = mountIt(PreferencesSettings);
    await wrapper.find('[data-testid="pref-auto-away"]').setValue("1000");
    await wrapper.find('[data-testid="prefs-save"]').trigger("click");
    await flushPromises();
    expect(sendMock).not.toHaveBeenCalled();
    expect(wrapper.text()).toContain("0 to 480");
  });

  it("puts the saved theme back when leaving without saving", async () => {
    const wrapper = mountIt(PreferencesSettings);
    await wrapper.find('[data-testid="pref-theme-dark"]').trigger("click");
    expect(document.documentElement.dataset.theme).toBe("dark");
    wrapper.unmount();
    expect(document.documentElement.dataset.theme).toBe("light");
  });
});

describe("profile", () => {
  it("saves name and display name and uses the server's answer", async () => {
    sendMock.mockImplementation(async (method: string, url: string, body: Record<string, unknown>) =>
      method === "PATCH" && url === "/api/v1/me" ? { ...ME, ...body } : [],
    );
    const wrapper = mountIt(ProfileSettings);
    expect((wrapper.find('[data-testid="profile-name"]').element as HTMLInputElement).value).toBe("Ada Agent");
    await wrapper.find('[data-testid="profile-name"]').setValue("Ada Lovelace");
    await wrapper.find('[data-testid="profile-display-name"]').setValue("Ada");
    await wrapper.find('[data-testid="profile-save"]').trigger("click");
    await flushPromises();
    expect(sendMock).toHaveBeenCalledWith("PATCH", "/api/v1/me", { name: "Ada Lovelace", display_name: "Ada" });
    expect(useSession().me).toMatchObject({ name: "Ada Lovelace", display_name: "Ada" });
  });

  it("checks the new password before sending it", async () => {
    const wrapper = mountIt(ProfileSettings);
    await wrapper.find('[data-testid="password-current"]').setValue("old-password");
    await wrapper.find('[data-testid="password-new"]').setValue("short");
    await wrapper.find('[data-testid="password-save"]').trigger("click");
    expect(sendMock).not.toHaveBeenCalled();
    await wrapper.find('[data-testid="password-new"]').setValue("long-enough-1");
    await wrapper.find('[data-testid="password-new2"]').setValue("long-enough-1");
    await wrapper.find('[data-testid="password-save"]').trigger("click");
    await flushPromises();
    expect(sendMock).toHaveBeenCalledWith("POST", "/api/v1/me/password", { current_password: "old-password", new_password: "long-enough-1" });
  });
});

import { describe, expect, it } from "vitest";
import { footerMode, widgetHidden, type ModeState } from "../src/mode";

const base: ModeState = {
  config: { offline_behaviour: "form", prechat_enabled: false, prechat_fields: ["name", "email"] },
  agentsOnline: true,
  hasConversation: false,
  blocked: false,
  prechatDone: false,
  csatPending: false,
};
type Over = Omit<Partial<ModeState>, "config"> & { config?: Partial<ModeState["config"]> };
const state = (over: Over = {}): ModeState => ({
  ...base,
  ...over,
  config: { ...base.config, ...over.config },
});

describe("footerMode", () => {
  it("shows the composer to a visitor when agents are online and no pre-chat is asked", () => {
    expect(footerMode(state())).toBe("composer");
  });

  it("asks the pre-chat questions once, before the first message", () => {
    expect(footerMode(state({ config: { prechat_enabled: true } }))).toBe("prechat");
    expect(footerMode(state({ config: { prechat_enabled: true }, prechatDone: true }))).toBe("composer");
    expect(footerMode(state({ config: { prechat_enabled: true }, hasConversation: true }))).toBe("composer");
    expect(footerMode(state({ config: { prechat_enabled: true, prechat_fields: [] } }))).toBe("composer");
  });

  it("shows the offline form to a new visitor when no agent is online, before the pre-chat form", () => {
    expect(footerMode(state({ agentsOnline: false }))).toBe("offline");
    expect(footerMode(state({ agentsOnline: false, config: { prechat_enabled: true } }))).toBe("offline");
    expect(footerMode(state({ agentsOnline: false, hasConversation: true }))).toBe("composer");
    expect(footerMode(state({ agentsOnline: false, config: { offline_behaviour: "hide" } }))).toBe("composer");
  });

  it("asks for the rating when one is pending, and a blocked visitor sees only that they are blocked", () => {
    expect(footerMode(state({ hasConversation: true, csatPending: true }))).toBe("csat");
    expect(footerMode(state({ hasConversation: true, csatPending: true, blocked: true }))).toBe("blocked");
    expect(footerMode(state({ agentsOnline: false, blocked: true }))).toBe("blocked");
  });
});

describe("widgetHidden", () => {
  it("hides the widget only for a new visitor with no agent online and offline behaviour 'hide'", () => {
    const hide = { config: { offline_behaviour: "hide" as const } };
    expect(widgetHidden(state({ ...hide, agentsOnline: false }))).toBe(true);
    expect(widgetHidden(state({ ...hide, agentsOnline: true }))).toBe(false);
    expect(widgetHidden(state({ ...hide, agentsOnline: false, hasConversation: true }))).toBe(false);
    expect(widgetHidden(state({ ...hide, agentsOnline: false, blocked: true }))).toBe(false);
    expect(widgetHidden(state({ agentsOnline: false }))).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { localized, localizeConfig, wantedTags } from "../src/texts";
import type { WidgetConfig } from "../src/types";

const config: WidgetConfig = {
  colour: "#1f6feb",
  greeting: "Hello!",
  greeting_translations: { tr: "Merhaba!", fa: "سلام!", "pt-BR": "Olá!", de: "Hallo!" },
  invitation_text: "",
  invitation_text_translations: { tr: "Yardım ister misiniz?" },
  prechat_enabled: false,
  prechat_fields: [],
  offline_behaviour: "form",
  language: "auto",
  agents_online: true,
  max_upload_bytes: 1,
};

describe("greeting and invitation per language", () => {
  it("picks the visitor's browser language, any language the inbox gave", () => {
    expect(localizeConfig(config, { config: "auto", browser: ["de-AT", "en"] }).greeting).toBe("Hallo!");
    expect(localizeConfig(config, { config: "auto", browser: ["pt-BR"] }).greeting).toBe("Olá!");
    expect(localizeConfig(config, { config: "auto", browser: ["fa-IR"] }).greeting).toBe("سلام!");
  });

  it("falls back to the inbox's default text, and shows no invitation where none is given", () => {
    const ja = localizeConfig(config, { config: "auto", browser: ["ja", "ko"] });
    expect([ja.greeting, ja.invitation_text]).toEqual(["Hello!", ""]);
    const tr = localizeConfig(config, { config: "auto", browser: ["tr-TR"] });
    expect([tr.greeting, tr.invitation_text]).toEqual(["Merhaba!", "Yardım ister misiniz?"]);
  });

  it("follows the page's explicit language, then the inbox's fixed one, before the browser", () => {
    expect(localizeConfig(config, { attribute: "fa", config: "tr", browser: ["de"] }).greeting).toBe("سلام!");
    expect(localizeConfig(config, { config: "tr", browser: ["de"] }).greeting).toBe("Merhaba!");
    expect(wantedTags({ settings: "PT_br", config: "auto", browser: ["en-GB"] })).toEqual(["pt-br", "en-gb"]);
  });

  it("reads a config from a server without per-language texts (one string each)", () => {
    const { greeting_translations: _g, invitation_text_translations: _i, ...old } = config;
    expect(localizeConfig(old, { browser: ["tr"] }).greeting).toBe("Hello!");
    expect(localized("x", { TR: "y" }, ["tr"])).toBe("y");
  });
});

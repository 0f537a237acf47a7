import { describe, expect, it } from "vitest";
import { catalogues, chooseLanguage, formatBytes, isRtl, translator } from "../src/i18n";

const placeholders = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();

describe("catalogues", () => {
  const english = catalogues.en;

  it.each(["tr", "fa"] as const)("%s has every English key and no other", (lang) => {
    expect(Object.keys(catalogues[lang]).sort()).toEqual(Object.keys(english).sort());
  });

  it.each(["tr", "fa"] as const)("%s keeps the placeholders of each English string", (lang) => {
    for (const [key, text] of Object.entries(english)) {
      const translated = catalogues[lang][key as keyof typeof english];
      expect(placeholders(translated), `${lang}.${key}`).toEqual(placeholders(text));
      expect(translated.trim(), `${lang}.${key}`).not.toBe("");
    }
  });

  it("Persian strings are Persian, and only Persian is right to left", () => {
    expect(catalogues.fa.send).toMatch(/[\u0600-\u06ff]/);
    expect(isRtl("fa")).toBe(true);
    expect(isRtl("tr")).toBe(false);
    expect(isRtl("en")).toBe(false);
  });
});

describe("translator", () => {
  it("fills placeholders, with Persian digits in Persian", () => {
    expect(translator("en")("rateLimited", { seconds: 12 })).toBe("Too many messages, try again in 12 s");
    expect(translator("tr")("rateLimited", { seconds: 12 })).toContain("12 sn");
    expect(translator("fa")("rateLimited", { seconds: 12 })).toContain("۱۲");
  });

  it("formats upload limits for people", () => {
    expect(formatBytes(translator("en"), 10_485_760)).toBe("10 MB");
    expect(formatBytes(translator("en"), 1_572_864)).toBe("1.5 MB");
    expect(formatBytes(translator("en"), 512 * 1024)).toBe("512 KB");
    expect(formatBytes(translator("fa"), 10_485_760)).toBe("۱۰ مگابایت");
  });
});

describe("chooseLanguage", () => {
  it("takes the snippet's data-language first", () => {
    expect(chooseLanguage({ attribute: "tr", settings: "fa", config: "en", browser: ["fa-IR"] })).toBe("tr");
  });

  it("then window.FrontdeskSettings.language", () => {
    expect(chooseLanguage({ attribute: null, settings: "fa-IR", config: "en", browser: ["tr"] })).toBe("fa");
  });

  it("then the inbox's language unless it is auto", () => {
    expect(chooseLanguage({ config: "tr", browser: ["fa"] })).toBe("tr");
    expect(chooseLanguage({ config: "auto", browser: ["fa"] })).toBe("fa");
  });

  it("then the first browser language the widget has, in the browser's order", () => {
    expect(chooseLanguage({ config: "auto", browser: ["de-DE", "fa-IR", "tr-TR"] })).toBe("fa");
    expect(chooseLanguage({ config: "auto", browser: ["TR_tr", "en"] })).toBe("tr");
  });

  it("ignores languages it does not have, and falls back to English", () => {
    expect(chooseLanguage({ attribute: "de", settings: "xx", config: "auto", browser: ["ja", "zh-CN"] })).toBe("en");
    expect(chooseLanguage({})).toBe("en");
  });
});

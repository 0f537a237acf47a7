// The pure helpers behind the visitor facts: flags, places and languages in the agent's
// language, sources, online state, the ticking time on site, and links only for http(s).
import { beforeEach, describe, expect, it } from "vitest";
import { flagUrl } from "@/components/common/countryFlags";
import { clientText, isOnline, languageName, pageLabel, placeText, safeHref, secondsOnSite, sourceText } from "@/components/visitors/visitorFacts";
import { i18n } from "@/i18n";
import { visit } from "./fixtures";

const t = (key: string, params?: Record<string, unknown>): string => i18n.global.t(key, params ?? {});

beforeEach(() => {
  i18n.global.locale.value = "en";
});

describe("visitor facts", () => {
  it("turns a country code into its flag image (never an emoji, which Windows shows as boxes), and nothing else", () => {
    expect(flagUrl("TR")).toMatch(/tr\.svg/);
    expect(flagUrl("ir")).toMatch(/ir\.svg/);
    expect(flagUrl("TR")).not.toMatch(/^data:/);
    for (const bad of [null, undefined, "", "T", "TUR", "1A", "<b", "QM"]) expect(flagUrl(bad)).toBeNull();
  });

  it("names places and languages in the agent's language", () => {
    i18n.global.locale.value = "tr";
    expect(placeText(visit(1))).toMatch(/^Istanbul, Türkiye$/);
    expect(languageName("tr-TR")).toMatch(/^Türkçe/);
    i18n.global.locale.value = "en";
    expect(placeText({ country_code: null, country: null, city: null })).toBe("");
    expect(placeText({ country_code: "QM", country: "Nowhere", city: null })).toBe("Nowhere"); // no local name: the server's
    expect(languageName("not a tag!")).toBe("not a tag!");
  });

  it("describes the source and the client", () => {
    expect(sourceText(visit(1), t)).toBe("Search · Google");
    expect(sourceText(visit(1, { source_kind: "direct", source: "shop.example.com" }), t)).toBe("Direct");
    expect(sourceText(visit(1, { source_kind: "referral", source: "blog.example.org" }), t)).toBe("Referral · blog.example.org");
    expect(clientText(visit(1, { device: "mobile", os: null }), t)).toBe("Chrome 131 · Mobile");
  });

  it("counts time on site on from the server's figure while the visitor is there", () => {
    const received = 1_000_000;
    expect(secondsOnSite(visit(1), received, received + 61_500)).toBe(361);
    expect(secondsOnSite(visit(1, { left_at: "2026-11-24T17:06:00+00:00" }), received, received + 61_500)).toBe(300);
    expect(secondsOnSite(visit(1), received, received - 5000)).toBe(300); // a clock step back never counts down
  });

  it("is online only without a departure and when seen in the last 10 minutes", () => {
    const seen = new Date("2026-11-24T17:05:00+00:00").getTime();
    expect(isOnline(visit(1), seen + 60_000)).toBe(true);
    expect(isOnline(visit(1), seen + 11 * 60_000)).toBe(false);
    expect(isOnline(visit(1, { left_at: "2026-11-24T17:05:00+00:00" }), seen + 1000)).toBe(false);
  });

  it("links only http(s) pages and labels them by title", () => {
    expect(safeHref("https://shop.example.com/a")).toBe("https://shop.example.com/a");
    expect(safeHref("javascript:alert(1)")).toBeUndefined();
    expect(safeHref("data:text/html,hi")).toBeUndefined();
    expect(safeHref(null)).toBeUndefined();
    expect(pageLabel("https://shop.example.com/a?b=1", null)).toBe("shop.example.com/a?b=1");
    expect(pageLabel("https://shop.example.com/a", "  Red shoes ")).toBe("Red shoes");
  });
});

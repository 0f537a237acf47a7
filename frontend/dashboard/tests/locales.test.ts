// Every language has every key of English, with the same {placeholders}, and nothing extra.
import { describe, expect, it } from "vitest";
import { loadMessages } from "@/i18n";

type Tree = { [key: string]: string | Tree };

function flatten(tree: Tree, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === "string") out.set(key, v);
    else for (const [kk, vv] of flatten(v, key)) out.set(kk, vv);
  }
  return out;
}

const placeholders = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "").sort();

describe("translations", () => {
  const messages = loadMessages();
  const english = flatten(messages.en);

  it("has English texts", () => {
    expect(english.size).toBeGreaterThan(10);
  });

  for (const lang of ["tr", "fa"] as const) {
    it(`${lang} is complete and has the same placeholders`, () => {
      const other = flatten(messages[lang]);
      const missing = [...english.keys()].filter((k) => !other.has(k));
      const extra = [...other.keys()].filter((k) => !english.has(k));
      expect(missing).toEqual([]);
      expect(extra).toEqual([]);
      for (const [key, text] of english) {
        expect(placeholders(other.get(key) ?? ""), `${lang}: ${key}`).toEqual(placeholders(text));
        expect((other.get(key) ?? "").trim(), `${lang}: ${key} is empty`).not.toBe("");
      }
    });
  }

  // A button names what it does: an action, never the state it leads to (the Persian Resolve
  // button read «حل شد», "resolved"). Persian past tense ends in «شد»; a Turkish button that
  // ends in -ldı/-ldi/-ndı/-ndi is a past-tense statement too.
  const ACTION_KEYS = [
    "conversation.resolve",
    "conversation.reopen",
    "conversation.snooze",
    "conversation.assign",
    "conversation.send",
    "conversation.leave",
    "conversation.invite",
    "common.save",
    "common.delete",
    "common.cancel",
    "common.close",
    "visitors.startChat",
    "visitors.block.action",
    "visitors.block.undo",
    "settings.tokens.create",
    "settings.tokens.revoke",
  ];
  it("action buttons are actions, not states, in Persian and Turkish", () => {
    const fa = flatten(messages.fa);
    const tr = flatten(messages.tr);
    for (const key of ACTION_KEYS) {
      expect(english.has(key), key).toBe(true);
      expect(fa.get(key) ?? "", `fa: ${key}`).not.toMatch(/\s?شد$/);
      expect(tr.get(key) ?? "", `tr: ${key}`).not.toMatch(/(ld|nd|ş)[ıiuü]$/);
    }
    expect(fa.get("conversation.resolve")).not.toBe(fa.get("conversation.statusName.resolved"));
  });
});

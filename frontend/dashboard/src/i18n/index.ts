// Translations live in src/locales/<language>/<area>.json; each area's keys are reached as
// "<area>.<key>" (list.empty, settings.theme…). tests/locales.test.ts fails when a key or a
// {placeholder} is missing from any language.
import { createI18n } from "vue-i18n";

export const LANGUAGES = [
  { code: "en", name: "English", dir: "ltr", intl: "en-GB" },
  { code: "tr", name: "Türkçe", dir: "ltr", intl: "tr-TR" },
  { code: "fa", name: "فارسی", dir: "rtl", intl: "fa-IR" },
] as const;
export type Language = (typeof LANGUAGES)[number]["code"];

type Tree = { [key: string]: string | Tree };
const files = import.meta.glob<Tree>("../locales/*/*.json", { eager: true, import: "default" });

export function loadMessages(): Record<Language, Tree> {
  const messages: Record<string, Tree> = { en: {}, tr: {}, fa: {} };
  for (const [path, tree] of Object.entries(files)) {
    const match = path.match(/locales\/(\w+)\/([\w-]+)\.json$/);
    if (!match) continue;
    const [, lang, area] = match as unknown as [string, string, string];
    (messages[lang] ??= {})[area] = tree;
  }
  return messages as Record<Language, Tree>;
}

export function isLanguage(code: string): code is Language {
  return LANGUAGES.some((l) => l.code === code);
}

export function preferredLanguage(): Language {
  const stored = localStorage.getItem("frontdesk.locale") ?? "";
  if (isLanguage(stored)) return stored;
  const browser = (navigator.language || "en").slice(0, 2);
  return isLanguage(browser) ? browser : "en";
}

export const i18n = createI18n({
  legacy: false,
  locale: preferredLanguage(),
  fallbackLocale: "en",
  messages: loadMessages(),
  missingWarn: false,
  fallbackWarn: false,
});

/** Switches the language and the page direction (Persian is right-to-left). */
export function applyLanguage(code: Language): void {
  i18n.global.locale.value = code;
  const lang = LANGUAGES.find((l) => l.code === code) ?? LANGUAGES[0];
  document.documentElement.lang = code;
  document.documentElement.dir = lang.dir;
  localStorage.setItem("frontdesk.locale", code);
}

export function intlLocale(code: string = i18n.global.locale.value): string {
  return LANGUAGES.find((l) => l.code === code)?.intl ?? "en-GB";
}

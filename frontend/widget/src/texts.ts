// The inbox's texts for the visitor (greeting, invitation) in the visitor's language: an
// administrator may give them in any language, not only the three the widget itself speaks.
import type { LanguageSources } from "./i18n";
import type { WidgetConfig } from "./types";

/** The language tags to try, most wanted first: the page's explicit choice, the inbox's fixed
 * language, then the browser's list. */
export function wantedTags(sources: LanguageSources): string[] {
  const tags = [sources.attribute, sources.settings, sources.config === "auto" ? null : sources.config, ...(sources.browser ?? [])];
  return tags.filter((tag): tag is string => typeof tag === "string" && tag.trim() !== "").map((tag) => tag.trim().toLowerCase().replace(/_/g, "-"));
}

/** The text of the first wanted language that has one (pt-BR, then pt), else the default. */
export function localized(fallback: string, texts: Record<string, string> | undefined, wanted: readonly string[]): string {
  if (!texts) return fallback;
  const byTag = new Map(Object.entries(texts).map(([tag, text]) => [tag.toLowerCase(), text]));
  for (const tag of wanted) {
    for (const candidate of [tag, tag.split("-")[0] ?? tag]) {
      const text = byTag.get(candidate);
      if (text !== undefined) return text;
    }
  }
  return fallback;
}

/** The config with its greeting and invitation in the visitor's language. */
export function localizeConfig(config: WidgetConfig, sources: LanguageSources): WidgetConfig {
  const wanted = wantedTags(sources);
  return {
    ...config,
    greeting: localized(config.greeting, config.greeting_translations, wanted),
    invitation_text: localized(config.invitation_text, config.invitation_text_translations, wanted),
  };
}

// The entry point of /widget.js: finds its own <script> tag, reads the inbox's configuration,
// chooses the language and starts the widget. The only globals it touches are
// window.Frontdesk (the API it offers) and window.FrontdeskSettings (read only).
import { Api } from "./api";
import { chooseLanguage, translator } from "./i18n";
import { safeStorage } from "./storage";
import { localizeConfig } from "./texts";
import type { PageInfo, UserSettings } from "./types";
import { Widget, type MessageListener } from "./widget";

interface Settings {
  inbox?: string;
  language?: string;
  user?: UserSettings;
}

interface PublicApi {
  open(): void;
  close(): void;
  toggle(): void;
  setUser(user: UserSettings): void;
  on(event: "message", listener: MessageListener): void;
}

declare global {
  interface Window {
    Frontdesk?: PublicApi;
    FrontdeskSettings?: Settings;
  }
}

function ownScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement) return current;
  const scripts = Array.from(document.querySelectorAll<HTMLScriptElement>("script[src]"));
  return scripts.find((s) => /\/widget\.js(\?|#|$)/.test(s.src)) ?? null;
}

function page(): PageInfo {
  return { url: location.href, title: document.title, referrer: document.referrer };
}

/** Calls made before the widget has loaded its configuration wait here. */
function makeApi(ready: Promise<Widget | null>): PublicApi {
  const later = (act: (w: Widget) => void) => void ready.then((w) => w && act(w));
  return {
    open: () => later((w) => w.open()),
    close: () => later((w) => w.close()),
    toggle: () => later((w) => w.toggle()),
    setUser: (user) => later((w) => w.setUser(user)),
    on: (event, listener) => {
      if (event === "message" && typeof listener === "function") later((w) => w.onMessage(listener));
    },
  };
}

/** Single-page sites change pages through the History API; wrapping keeps the site's calls intact. */
function watchNavigation(onChange: () => void): void {
  let last = location.href;
  const check = () =>
    setTimeout(() => {
      if (location.href === last) return;
      last = location.href;
      onChange();
    }, 0);
  for (const name of ["pushState", "replaceState"] as const) {
    const original = history[name];
    history[name] = function (this: History, ...args: Parameters<History["pushState"]>) {
      const result = original.apply(this, args);
      check();
      return result;
    };
  }
  addEventListener("popstate", check);
  addEventListener("hashchange", check);
}

async function boot(script: HTMLScriptElement | null, settings: Settings): Promise<Widget | null> {
  const inbox = script?.dataset.inbox || settings.inbox;
  if (!inbox || !script?.src) {
    console.warn("Frontdesk: the widget needs data-inbox on its <script> tag");
    return null;
  }
  const api = new Api(new URL(script.src, location.href).origin, inbox);
  let config;
  try {
    config = await api.config();
  } catch (error) {
    console.warn("Frontdesk: the chat widget could not load its settings", error);
    return null;
  }
  const sources = {
    attribute: script.dataset.language,
    settings: settings.language,
    config: config.language,
    browser: navigator.languages?.length ? navigator.languages : [navigator.language],
  };
  const lang = chooseLanguage(sources);
  config = localizeConfig(config, sources);
  const user: UserSettings | null =
    settings.user ?? (script.dataset.userId ? { id: script.dataset.userId, hash: script.dataset.userHash } : null);
  const widget = new Widget({
    api,
    config,
    lang,
    t: translator(lang),
    store: safeStorage(() => window.localStorage, `frontdesk:${inbox}:`),
    visit: safeStorage(() => window.sessionStorage, `frontdesk:${inbox}:`),
    user,
    page,
  });
  watchNavigation(() => widget.page());
  if (document.readyState === "loading") {
    await new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));
  }
  widget.start();
  return widget;
}

// One widget per page, even when a site pastes the snippet twice.
if (!window.Frontdesk) {
  const script = ownScript();
  const settings = window.FrontdeskSettings ?? {};
  window.Frontdesk = makeApi(boot(script, settings));
}

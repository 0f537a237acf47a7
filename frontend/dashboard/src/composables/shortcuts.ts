// Keyboard shortcuts of the conversation screen. Keys are ignored while the agent types in a
// field (except Escape), and only work when the agent's "hotkeys" preference is on.
import { onBeforeUnmount, onMounted } from "vue";
import { useSession } from "@/stores/session";

export interface Shortcut {
  /** Key as KeyboardEvent.key (lower case for letters), with "Alt+" for the Alt modifier. */
  keys: string[];
  /** i18n key (conversation.shortcuts.<action>) describing it. */
  action: string;
}

/** Every shortcut, for the help overlay (ShortcutHelp.vue) and for the handler. */
export const SHORTCUTS: Shortcut[] = [
  { keys: ["r"], action: "reply" },
  { keys: ["n"], action: "note" },
  { keys: ["e", "Alt+r"], action: "resolve" },
  { keys: ["s"], action: "snooze" },
  { keys: ["a"], action: "assign" },
  { keys: ["l"], action: "labels" },
  { keys: ["p"], action: "priority" },
  { keys: ["/"], action: "search" },
  { keys: ["?"], action: "help" },
  { keys: ["Escape"], action: "close" },
];

export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
}

/** The shortcut name of a key event ("Alt+r", "e", "?", "Escape"), or null for modified keys we do not use. */
export function keyName(event: KeyboardEvent): string | null {
  if (event.ctrlKey || event.metaKey) return null;
  let key = event.key;
  if (event.altKey) {
    // Alt+letter can produce another character (macOS); use the physical key.
    const code = event.code.startsWith("Key") ? event.code.slice(3).toLowerCase() : key.toLowerCase();
    return `Alt+${code}`;
  }
  if (key.length === 1) key = key === key.toUpperCase() && key !== key.toLowerCase() ? key.toLowerCase() : key;
  return key;
}

/** Finds the action bound to a key event, honouring the typing rule. */
export function actionFor(event: KeyboardEvent): string | null {
  const name = keyName(event);
  if (!name) return null;
  if (isTypingTarget(event.target) && name !== "Escape") return null;
  return SHORTCUTS.find((s) => s.keys.includes(name))?.action ?? null;
}

/** Registers handlers by action name for as long as the calling component lives. */
export function useShortcuts(handlers: Partial<Record<string, () => void>>): void {
  const session = useSession();
  function onKey(event: KeyboardEvent): void {
    if (!session.preferences.hotkeys || event.defaultPrevented) return;
    const action = actionFor(event);
    if (!action) return;
    const handler = handlers[action];
    if (!handler) return;
    event.preventDefault();
    handler();
  }
  onMounted(() => window.addEventListener("keydown", onKey));
  onBeforeUnmount(() => window.removeEventListener("keydown", onKey));
}

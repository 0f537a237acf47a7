// A small built-in set of common emoji: enough for a support chat, no library to load.
export const EMOJI: readonly string[] = [
  "😀", "😃", "😄", "😁", "😆", "😅", "😂", "🙂", "😉", "😊", "😍", "😘",
  "😎", "🤔", "😐", "🙄", "😮", "😢", "😭", "😡", "😴", "🤗", "🙏", "👍",
  "👎", "👌", "👏", "🙌", "👋", "💪", "❤️", "💔", "🔥", "⭐", "🎉", "✅",
  "❌", "❓", "❗", "⏰", "📦", "🚚", "💳", "🛒", "📎", "📷", "☕", "🌹",
];

// A curated set of common emoji in a few categories for the composer's picker (no dependency).
export interface EmojiCategory {
  key: "smileys" | "gestures" | "hearts" | "objects" | "nature";
  icon: string;
  emoji: string[];
}

const list = (s: string): string[] => s.split(" ").filter(Boolean);

export const EMOJI: EmojiCategory[] = [
  {
    key: "smileys",
    icon: "😀",
    emoji: list(
      "😀 😃 😄 😁 😆 😅 😂 🤣 😊 😇 🙂 🙃 😉 😌 😍 🥰 😘 😗 😙 😚 😋 😛 😜 🤪 😝 🤗 🤭 🤫 🤔 🤐 🤨 😐 😑 😶 😏 😒 🙄 😬 😮‍💨 😔 😪 😴 😷 🤒 🤕 🥵 🥶 😵 🤯 🤠 🥳 😎 🤓 🧐 😕 😟 🙁 😮 😯 😲 😳 🥺 😦 😧 😨 😰 😥 😢 😭 😱 😖 😣 😞 😓 😩 😫 🥱 😤 😡 😠",
    ),
  },
  {
    key: "gestures",
    icon: "👍",
    emoji: list("👍 👎 👌 ✌️ 🤞 🤟 🤘 🤙 👈 👉 👆 👇 ☝️ ✋ 🤚 🖐️ 🖖 👋 👏 🙌 👐 🤲 🤝 🙏 ✍️ 💪 👀 🫡 🤷 🤦 🙋 🙇"),
  },
  {
    key: "hearts",
    icon: "❤️",
    emoji: list("❤️ 🧡 💛 💚 💙 💜 🖤 🤍 🤎 💔 ❣️ 💕 💞 💓 💗 💖 💘 💝 ✨ ⭐ 🌟 💯 🔥 🎉 🎊 🎁"),
  },
  {
    key: "objects",
    icon: "📎",
    emoji: list("📎 📌 📝 📄 📦 📧 📞 📱 💻 🖥️ 🔒 🔑 🔧 ⚙️ 💡 📅 ⏰ ⌛ 🛒 💳 💰 🧾 ✅ ❌ ⚠️ ❓ ❗ ➡️ 🔁 🚀"),
  },
  {
    key: "nature",
    icon: "🌸",
    emoji: list("☀️ 🌤️ 🌧️ ❄️ 🌈 🌸 🌹 🌻 🌷 🍀 🌳 ☕ 🍵 🍰 🍕 🍎"),
  },
];

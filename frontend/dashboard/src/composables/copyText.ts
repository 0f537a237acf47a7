// Copy buttons that say "Copied" for two seconds: `copied` holds the key of the last one used.
import { ref, type Ref } from "vue";

export function useCopyText(): { copied: Ref<string>; copy: (key: string, text: string) => Promise<void> } {
  const copied = ref("");
  async function copy(key: string, text: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      copied.value = key;
      setTimeout(() => {
        if (copied.value === key) copied.value = "";
      }, 2000);
    } catch {
      // Clipboard refused (no permission): the text is on screen to copy by hand.
    }
  }
  return { copied, copy };
}

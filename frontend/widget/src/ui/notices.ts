// The lines above the composer: an error that fades after a while (a rate limit stays until it
// is over) and a thank-you that fades too.
import type { Translate } from "../i18n";
import type { View } from "./view";

const NOTICE_MS = 8_000;

export class Notices {
  private errorTimer: ReturnType<typeof setTimeout> | undefined;
  private thanksTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly view: View,
    private readonly t: Translate,
  ) {}

  /** null clears it now. */
  error(text: string | null, ms = NOTICE_MS): void {
    clearTimeout(this.errorTimer);
    this.view.showNotice(text);
    if (text) this.errorTimer = setTimeout(() => this.view.showNotice(null), ms);
  }

  thanks(text: string): void {
    clearTimeout(this.thanksTimer);
    this.view.showThanks(text);
    this.thanksTimer = setTimeout(() => this.view.showThanks(null), NOTICE_MS);
  }

  rateLimited(retryAfter: number | null): void {
    const seconds = Math.ceil(retryAfter ?? 60);
    this.error(this.t("rateLimited", { seconds }), Math.max(NOTICE_MS, seconds * 1000));
  }
}

// Every string the visitor can see, in the three languages Frontdesk ships. Persian is
// right-to-left. A test checks that the catalogues have the same keys and placeholders.
import type { Lang } from "./types";

const en = {
  chat: "Chat",
  openChat: "Open chat",
  closeChat: "Close chat",
  unread: "{count} unread messages",
  online: "We are online",
  away: "We are away",
  placeholder: "Write a message…",
  send: "Send",
  attach: "Attach a file",
  emoji: "Insert an emoji",
  you: "You",
  agent: "Support",
  sending: "Sending",
  sent: "Sent",
  seen: "Seen",
  failed: "Not sent. Tap to try again",
  typing: "{name} is typing…",
  typingSomeone: "Typing…",
  prechatTitle: "Please tell us who you are before we start.",
  name: "Name",
  email: "Email",
  phone: "Phone",
  startChat: "Start chat",
  required: "Please fill in this field",
  invalidEmail: "Please enter a valid email address",
  offlineTitle: "No one is available right now. Leave a message and we will answer by email.",
  message: "Message",
  offlineSend: "Send message",
  offlineThanks: "Thank you! We will answer by email as soon as we can.",
  rateLimited: "Too many messages, try again in {seconds} s",
  fileTooLarge: "This file is too large: files can be at most {limit}.",
  fileRefused: "This file could not be sent: {reason}",
  dropHere: "Drop the file here to send it",
  blocked: "You can no longer start chats here.",
  reconnecting: "Connection lost. Reconnecting…",
  failedGeneric: "Something went wrong. Please try again.",
  csatTitle: "How would you rate this conversation?",
  csatStar: "{n} out of 5",
  csatComment: "Anything to add? (optional)",
  csatSend: "Send rating",
  csatThanks: "Thank you for your rating!",
  dismiss: "Dismiss",
  megabytes: "{n} MB",
  kilobytes: "{n} KB",
};

export type Key = keyof typeof en;
type Catalogue = Record<Key, string>;

const tr: Catalogue = {
  chat: "Sohbet",
  openChat: "Sohbeti aç",
  closeChat: "Sohbeti kapat",
  unread: "{count} okunmamış mesaj",
  online: "Çevrimiçiyiz",
  away: "Şu an dışarıdayız",
  placeholder: "Bir mesaj yazın…",
  send: "Gönder",
  attach: "Dosya ekle",
  emoji: "Emoji ekle",
  you: "Siz",
  agent: "Destek",
  sending: "Gönderiliyor",
  sent: "Gönderildi",
  seen: "Görüldü",
  failed: "Gönderilemedi. Yeniden denemek için dokunun",
  typing: "{name} yazıyor…",
  typingSomeone: "Yazıyor…",
  prechatTitle: "Başlamadan önce lütfen kendinizi tanıtın.",
  name: "Ad",
  email: "E-posta",
  phone: "Telefon",
  startChat: "Sohbeti başlat",
  required: "Lütfen bu alanı doldurun",
  invalidEmail: "Lütfen geçerli bir e-posta adresi girin",
  offlineTitle: "Şu anda müsait kimse yok. Mesajınızı bırakın, size e-postayla yanıt verelim.",
  message: "Mesaj",
  offlineSend: "Mesajı gönder",
  offlineThanks: "Teşekkürler! En kısa sürede e-postayla yanıt vereceğiz.",
  rateLimited: "Çok fazla mesaj gönderildi, {seconds} sn sonra yeniden deneyin",
  fileTooLarge: "Bu dosya çok büyük: dosyalar en fazla {limit} olabilir.",
  fileRefused: "Bu dosya gönderilemedi: {reason}",
  dropHere: "Göndermek için dosyayı buraya bırakın",
  blocked: "Burada artık sohbet başlatamazsınız.",
  reconnecting: "Bağlantı koptu. Yeniden bağlanılıyor…",
  failedGeneric: "Bir şeyler ters gitti. Lütfen yeniden deneyin.",
  csatTitle: "Bu görüşmeyi nasıl değerlendirirsiniz?",
  csatStar: "5 üzerinden {n}",
  csatComment: "Eklemek istediğiniz bir şey var mı? (isteğe bağlı)",
  csatSend: "Puanı gönder",
  csatThanks: "Değerlendirmeniz için teşekkürler!",
  dismiss: "Kapat",
  megabytes: "{n} MB",
  kilobytes: "{n} KB",
};

const fa: Catalogue = {
  chat: "گفتگو",
  openChat: "باز کردن گفتگو",
  closeChat: "بستن گفتگو",
  unread: "{count} پیام خوانده‌نشده",
  online: "ما آنلاین هستیم",
  away: "فعلاً در دسترس نیستیم",
  placeholder: "پیامی بنویسید…",
  send: "ارسال",
  attach: "پیوست فایل",
  emoji: "افزودن ایموجی",
  you: "شما",
  agent: "پشتیبانی",
  sending: "در حال ارسال",
  sent: "ارسال شد",
  seen: "دیده شد",
  failed: "ارسال نشد. برای تلاش دوباره بزنید",
  typing: "{name} در حال نوشتن است…",
  typingSomeone: "در حال نوشتن…",
  prechatTitle: "لطفاً پیش از شروع خودتان را معرفی کنید.",
  name: "نام",
  email: "ایمیل",
  phone: "تلفن",
  startChat: "شروع گفتگو",
  required: "لطفاً این بخش را پر کنید",
  invalidEmail: "لطفاً یک نشانی ایمیل معتبر وارد کنید",
  offlineTitle: "اکنون کسی در دسترس نیست. پیام بگذارید تا از راه ایمیل پاسخ دهیم.",
  message: "پیام",
  offlineSend: "ارسال پیام",
  offlineThanks: "سپاس! در نخستین فرصت با ایمیل پاسخ می‌دهیم.",
  rateLimited: "پیام‌ها بیش از حد زیاد است، {seconds} ثانیه دیگر دوباره تلاش کنید",
  fileTooLarge: "این فایل بیش از حد بزرگ است: اندازهٔ فایل حداکثر {limit} است.",
  fileRefused: "این فایل ارسال نشد: {reason}",
  dropHere: "برای ارسال، فایل را اینجا رها کنید",
  blocked: "دیگر نمی‌توانید در اینجا گفتگویی آغاز کنید.",
  reconnecting: "اتصال قطع شد. در حال اتصال دوباره…",
  failedGeneric: "مشکلی پیش آمد. لطفاً دوباره تلاش کنید.",
  csatTitle: "به این گفتگو چه امتیازی می‌دهید؟",
  csatStar: "{n} از ۵",
  csatComment: "نکتهٔ دیگری دارید؟ (اختیاری)",
  csatSend: "ارسال امتیاز",
  csatThanks: "از امتیاز شما سپاسگزاریم!",
  dismiss: "بستن",
  megabytes: "{n} مگابایت",
  kilobytes: "{n} کیلوبایت",
};

export const catalogues: Record<Lang, Catalogue> = { en, tr, fa };
export const LANGUAGES: readonly Lang[] = ["en", "tr", "fa"];

/** BCP 47 locales for Intl: Persian digits come with "fa", Turkish dates with "tr". */
export const LOCALES: Record<Lang, string> = { en: "en", tr: "tr-TR", fa: "fa-IR" };

export function isRtl(lang: Lang): boolean {
  return lang === "fa";
}

function supported(tag: string | null | undefined): Lang | null {
  if (!tag) return null;
  const base = tag.trim().toLowerCase().split(/[-_]/)[0];
  return (LANGUAGES as readonly string[]).includes(base) ? (base as Lang) : null;
}

export interface LanguageSources {
  attribute?: string | null; // data-language on the snippet
  settings?: string | null; // window.FrontdeskSettings.language
  config?: string | null; // the inbox's language setting; "auto" means the browser's
  browser?: readonly string[]; // navigator.languages
}

/** The first source that names a language the widget has wins; the browser's list is searched
 * in order of preference; English when nothing matches. */
export function chooseLanguage(sources: LanguageSources): Lang {
  for (const explicit of [sources.attribute, sources.settings]) {
    const lang = supported(explicit);
    if (lang) return lang;
  }
  if (sources.config && sources.config !== "auto") {
    const lang = supported(sources.config);
    if (lang) return lang;
  }
  for (const tag of sources.browser ?? []) {
    const lang = supported(tag);
    if (lang) return lang;
  }
  return "en";
}

export type Translate = (key: Key, params?: Record<string, string | number>) => string;

export function translator(lang: Lang): Translate {
  const catalogue = catalogues[lang];
  const numbers = new Intl.NumberFormat(LOCALES[lang]);
  return (key, params) =>
    catalogue[key].replace(/\{(\w+)\}/g, (whole, name: string) => {
      const value = params?.[name];
      if (value === undefined) return whole;
      return typeof value === "number" ? numbers.format(value) : value;
    });
}

/** A byte count for people: "10 MB", "512 KB" (in Persian digits in Persian). */
export function formatBytes(t: Translate, bytes: number): string {
  const mb = bytes / 1_048_576;
  if (mb >= 1) return t("megabytes", { n: Math.round(mb * 10) / 10 });
  return t("kilobytes", { n: Math.max(1, Math.round(bytes / 1024)) });
}

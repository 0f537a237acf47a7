"""Texts the server writes for people (emails, the widget preview page), in every language the
dashboard speaks.

Each language has every key, with the same {placeholders}; tests/test_people.py checks both.
An unknown locale falls back to English.
"""

from __future__ import annotations

import string
from typing import Any

DEFAULT_LOCALE = "en"

CATALOGUE: dict[str, dict[str, str]] = {
    "en": {
        "password_reset.subject": "Reset your Frontdesk password",
        "password_reset.body": (
            "Hello {name},\n\n"
            "Someone (hopefully you) asked to reset the password of your Frontdesk account. "
            "To choose a new password, open this link:\n\n"
            "{link}\n\n"
            "The link can be used once, within {minutes} minutes.\n\n"
            "If you did not ask for this, you can ignore this email: your password stays the same.\n"
        ),
        "invitation.subject": "{inviter} invited you to {workspace} on Frontdesk",
        "invitation.body": (
            "Hello,\n\n"
            "{inviter} invited you to join the {workspace} workspace on Frontdesk as {role}. "
            "To accept and set up your account, open this link:\n\n"
            "{link}\n\n"
            "If you were not expecting this invitation, you can ignore this email.\n"
        ),
        "role.administrator": "an administrator",
        "role.supervisor": "a supervisor",
        "role.agent": "an agent",
        "preview.title": "Chat widget preview: {inbox}",
        "preview.body": (
            "This page stands in for your website: the chat button in the corner is the widget of the "
            "{inbox} inbox, exactly as visitors of your site will see it. Write a message here and answer "
            "it from the dashboard."
        ),
        "email_template.website": "Website",
        "email_template.app_store": "App Store",
        "email_template.google_play": "Google Play",
        "email_template.terms": "Terms",
        "email_template.privacy": "Privacy",
        "email_template.sample_reply": (
            "Hello,\n\n"
            "Thank you for your message. We looked into your request and the problem is fixed.\n\n"
            "If you have any other question, just reply to this email."
        ),
        "demo_outbox.title": "Demo outbox",
        "demo_outbox.intro": (
            "Mail Frontdesk sent during the demo. The demo's relay on {address} keeps every mail here "
            "and delivers none of it: nothing leaves this machine."
        ),
        "demo_outbox.empty": (
            "Nothing sent yet. Reply to an email conversation in the dashboard, then reload this page."
        ),
        "demo_outbox.date": "Sent",
        "demo_outbox.from": "From",
        "demo_outbox.to": "To",
        "demo_outbox.cc": "Cc",
        "demo_outbox.recipients": "Delivered to",
        "demo_outbox.subject": "Subject",
        "demo_customer.title": "Play the customer (simulated channels)",
        "demo_customer.intro": (
            "Write to the demo's simulated inboxes as their customers would, from the app of each "
            "channel. The providers here are simulated inside Frontdesk: no account is needed and "
            "nothing leaves this machine. Answer in the dashboard: the reply appears here."
        ),
        "demo_customer.none": (
            "No simulated inbox yet: run `make demo` (or `frontdesk demo`) with simulated channels on."
        ),
        "demo_customer.inbox": "Inbox",
        "demo_customer.name": "Your name as the customer",
        "demo_customer.default_name": "Deniz Customer",
        "demo_customer.text": "Message",
        "demo_customer.send": "Send",
        "demo_customer.you": "You",
        "demo_customer.business": "Business",
        "demo_customer.typing": "typing…",
        "demo_customer.empty": "No messages in this chat yet.",
        "demo_customer.failed": "Not delivered: {reason}",
        "demo_customer.file": "File",
        "demo_customer.badge": "simulated",
        "demo_customer.attach": "A file (optional, up to 700 KB)",
        "demo_customer.too_big": "The file is too large for the demo: 700 KB at most.",
    },
    "tr": {
        "password_reset.subject": "Frontdesk parolanızı sıfırlayın",
        "password_reset.body": (
            "Merhaba {name},\n\n"
            "Frontdesk hesabınızın parolasını sıfırlamak için bir istek aldık. "
            "Yeni bir parola belirlemek için bu bağlantıyı açın:\n\n"
            "{link}\n\n"
            "Bağlantı yalnızca bir kez ve {minutes} dakika içinde kullanılabilir.\n\n"
            "Bu isteği siz yapmadıysanız bu e-postayı yok sayabilirsiniz; parolanız değişmeyecek.\n"
        ),
        "invitation.subject": "{inviter} sizi Frontdesk'teki {workspace} çalışma alanına davet etti",
        "invitation.body": (
            "Merhaba,\n\n"
            "{inviter} sizi Frontdesk'teki {workspace} çalışma alanına {role} olarak katılmaya davet etti. "
            "Daveti kabul etmek ve hesabınızı oluşturmak için bu bağlantıyı açın:\n\n"
            "{link}\n\n"
            "Bu daveti beklemiyorsanız bu e-postayı yok sayabilirsiniz.\n"
        ),
        "role.administrator": "yönetici",
        "role.supervisor": "süpervizör",
        "role.agent": "temsilci",
        "preview.title": "Sohbet penceresi önizlemesi: {inbox}",
        "preview.body": (
            "Bu sayfa web sitenizin yerini tutar: köşedeki sohbet düğmesi, {inbox} gelen kutusunun "
            "penceresidir ve sitenizin ziyaretçileri onu tam olarak böyle görür. Buradan bir mesaj yazın "
            "ve panelden yanıtlayın."
        ),
        "email_template.website": "Web sitesi",
        "email_template.app_store": "App Store",
        "email_template.google_play": "Google Play",
        "email_template.terms": "Kullanım Koşulları",
        "email_template.privacy": "Gizlilik",
        "email_template.sample_reply": (
            "Merhaba,\n\n"
            "Mesajınız için teşekkür ederiz. Talebinizi inceledik ve sorun giderildi.\n\n"
            "Başka bir sorunuz olursa bu e-postayı yanıtlamanız yeterli."
        ),
        "demo_outbox.title": "Demo giden kutusu",
        "demo_outbox.intro": (
            "Frontdesk'in demo sırasında gönderdiği e-postalar. {address} üzerindeki demo aktarıcısı "
            "her e-postayı burada tutar ve hiçbirini teslim etmez: bu makineden hiçbir şey çıkmaz."
        ),
        "demo_outbox.empty": (
            "Henüz gönderilen bir şey yok. Panelde bir e-posta konuşmasını yanıtlayın, sonra bu sayfayı "
            "yenileyin."
        ),
        "demo_outbox.date": "Gönderilme",
        "demo_outbox.from": "Kimden",
        "demo_outbox.to": "Kime",
        "demo_outbox.cc": "Bilgi",
        "demo_outbox.recipients": "Teslim adresleri",
        "demo_outbox.subject": "Konu",
        "demo_customer.title": "Müşteri rolünde yazın (simüle kanallar)",
        "demo_customer.intro": (
            "Demonun simüle gelen kutularına, müşterilerin her kanalın uygulamasından yazacağı gibi "
            "yazın. Buradaki sağlayıcılar Frontdesk'in içinde simüle edilir: hesap gerekmez ve hiçbir "
            "şey bu makineden dışarı çıkmaz. Panelden yanıtlayın: yanıt burada görünür."
        ),
        "demo_customer.none": (
            "Henüz simüle gelen kutusu yok: `make demo` (ya da `frontdesk demo`) komutunu simüle "
            "kanallar açıkken çalıştırın."
        ),
        "demo_customer.inbox": "Gelen kutusu",
        "demo_customer.name": "Müşteri olarak adınız",
        "demo_customer.default_name": "Deniz Müşteri",
        "demo_customer.text": "Mesaj",
        "demo_customer.send": "Gönder",
        "demo_customer.you": "Siz",
        "demo_customer.business": "İşletme",
        "demo_customer.typing": "yazıyor…",
        "demo_customer.empty": "Bu sohbette henüz mesaj yok.",
        "demo_customer.failed": "İletilmedi: {reason}",
        "demo_customer.file": "Dosya",
        "demo_customer.badge": "simüle",
        "demo_customer.attach": "Dosya (isteğe bağlı, en çok 700 KB)",
        "demo_customer.too_big": "Dosya demo için çok büyük: en çok 700 KB.",
    },
    "fa": {
        "password_reset.subject": "بازنشانی گذرواژهٔ Frontdesk",
        "password_reset.body": (
            "سلام {name}،\n\n"
            "درخواستی برای بازنشانی گذرواژهٔ حساب Frontdesk شما دریافت کردیم. "
            "برای انتخاب گذرواژهٔ تازه، این پیوند را باز کنید:\n\n"
            "{link}\n\n"
            "این پیوند فقط یک بار و تا {minutes} دقیقهٔ دیگر قابل استفاده است.\n\n"
            "اگر شما این درخواست را نداده‌اید، این ایمیل را نادیده بگیرید؛ گذرواژهٔ شما تغییری نمی‌کند.\n"
        ),
        "invitation.subject": "{inviter} شما را به فضای کاری {workspace} در Frontdesk دعوت کرد",
        "invitation.body": (
            "سلام،\n\n"
            "{inviter} از شما دعوت کرده است که با نقش {role} به فضای کاری {workspace} در Frontdesk بپیوندید. "
            "برای پذیرفتن دعوت و ساختن حساب کاربری‌تان، این پیوند را باز کنید:\n\n"
            "{link}\n\n"
            "اگر انتظار این دعوت را نداشتید، می‌توانید این ایمیل را نادیده بگیرید.\n"
        ),
        "role.administrator": "مدیر",
        "role.supervisor": "ناظر",
        "role.agent": "کارشناس پشتیبانی",
        "preview.title": "پیش‌نمایش ابزارک گفتگو: {inbox}",
        "preview.body": (
            "این صفحه جای وب‌سایت شما را می‌گیرد: دکمهٔ گفتگو در گوشهٔ صفحه، ابزارک صندوق {inbox} است، "
            "همان‌طور که بازدیدکنندگان سایت شما آن را می‌بینند. از اینجا پیامی بنویسید و از داشبورد پاسخ دهید."
        ),
        "email_template.website": "وب‌سایت",
        "email_template.app_store": "App Store",
        "email_template.google_play": "Google Play",
        "email_template.terms": "شرایط استفاده",
        "email_template.privacy": "حریم خصوصی",
        "email_template.sample_reply": (
            "سلام،\n\n"
            "از پیام شما سپاسگزاریم. درخواستتان را بررسی کردیم و مشکل برطرف شده است.\n\n"
            "اگر پرسش دیگری دارید، به همین ایمیل پاسخ دهید."
        ),
        "demo_outbox.title": "صندوق ارسال نسخهٔ نمایشی",
        "demo_outbox.intro": (
            "ایمیل‌هایی که Frontdesk در نسخهٔ نمایشی فرستاده است. رلهٔ نمایشی روی {address} همهٔ "
            "ایمیل‌ها را اینجا نگه می‌دارد و هیچ‌کدام را تحویل نمی‌دهد: چیزی از این دستگاه خارج نمی‌شود."
        ),
        "demo_outbox.empty": (
            "هنوز چیزی فرستاده نشده است. در داشبورد به یک گفتگوی ایمیلی پاسخ دهید و سپس این صفحه را "
            "دوباره بارگذاری کنید."
        ),
        "demo_outbox.date": "زمان ارسال",
        "demo_outbox.from": "از",
        "demo_outbox.to": "به",
        "demo_outbox.cc": "رونوشت",
        "demo_outbox.recipients": "تحویل به",
        "demo_outbox.subject": "موضوع",
        "demo_customer.title": "به‌جای مشتری بنویسید (کانال‌های شبیه‌سازی‌شده)",
        "demo_customer.intro": (
            "همان‌طور که مشتریان از برنامهٔ هر کانال می‌نویسند، به صندوق‌های شبیه‌سازی‌شدهٔ نسخهٔ "
            "نمایشی پیام بدهید. ارائه‌دهنده‌ها در خود Frontdesk شبیه‌سازی شده‌اند: حسابی لازم نیست و "
            "چیزی از این رایانه بیرون نمی‌رود. در داشبورد پاسخ دهید: پاسخ این‌جا نمایش داده می‌شود."
        ),
        "demo_customer.none": (
            "هنوز صندوق شبیه‌سازی‌شده‌ای وجود ندارد: `make demo` (یا `frontdesk demo`) را با "
            "کانال‌های شبیه‌سازی‌شده اجرا کنید."
        ),
        "demo_customer.inbox": "صندوق ورودی",
        "demo_customer.name": "نام شما در نقش مشتری",
        "demo_customer.default_name": "دنیز مشتری",
        "demo_customer.text": "پیام",
        "demo_customer.send": "ارسال",
        "demo_customer.you": "شما",
        "demo_customer.business": "کسب‌وکار",
        "demo_customer.typing": "در حال نوشتن…",
        "demo_customer.empty": "هنوز پیامی در این گفتگو نیست.",
        "demo_customer.failed": "تحویل نشد: {reason}",
        "demo_customer.file": "فایل",
        "demo_customer.badge": "شبیه‌سازی‌شده",
        "demo_customer.attach": "فایل (اختیاری، حداکثر ۷۰۰ کیلوبایت)",
        "demo_customer.too_big": "فایل برای نسخهٔ نمایشی بیش از حد بزرگ است: حداکثر ۷۰۰ کیلوبایت.",
    },
}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def translate(locale: str | None, key: str, **params: Any) -> str:
    """The text of `key` in `locale` (English when the locale or the key is unknown), filled in."""
    texts = CATALOGUE.get(locale or DEFAULT_LOCALE, CATALOGUE[DEFAULT_LOCALE])
    text = texts.get(key, CATALOGUE[DEFAULT_LOCALE][key])
    return text.format(**params)


RTL = frozenset({"fa"})  # locales written right to left


def preferred_locale(accept_language: str | None) -> str:
    """The first language of the Accept-Language header that we speak (quality order is the
    browser's own order in practice), else English."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        primary = tag.split("-")[0]
        if primary in CATALOGUE:
            return primary
    return DEFAULT_LOCALE

// The three forms the panel can show instead of (or above) the composer: pre-chat details,
// the offline message, and the rating. Each checks its fields before calling back, shows the
// error beside the field, and names nothing the server would refuse.
import type { Translate } from "../i18n";
import type { PrechatField } from "../types";
import { ICONS, h, icon } from "./dom";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface FormHandle {
  el: HTMLElement;
  busy(on: boolean): void;
}

type Values = Record<string, string>;

interface FieldSpec {
  name: string;
  label: string;
  type: "text" | "email" | "tel" | "textarea";
  required: boolean;
  hook: string;
  autocomplete?: string;
}

function field(spec: FieldSpec): { wrap: HTMLElement; input: HTMLInputElement | HTMLTextAreaElement; err: HTMLElement } {
  const attrs = {
    name: spec.name,
    "data-fd": spec.hook,
    autocomplete: spec.autocomplete,
    required: spec.required,
    "aria-required": spec.required ? "true" : null,
  };
  const input = spec.type === "textarea" ? h("textarea", attrs) : h("input", { ...attrs, type: spec.type });
  const err = h("span", { class: "err", role: "alert" });
  err.hidden = true;
  return { wrap: h("label", {}, spec.label, input, err), input, err };
}

function form(
  hook: string,
  intro: string,
  specs: FieldSpec[],
  submitLabel: string,
  submitHook: string,
  t: Translate,
  onSubmit: (values: Values) => void,
): FormHandle {
  const fields = specs.map((spec) => ({ spec, ...field(spec) }));
  const submit = h("button", { type: "submit", class: "primary", "data-fd": submitHook }, submitLabel);
  const el = h("form", { class: "form", "data-fd": hook, novalidate: true }, h("p", {}, intro));
  for (const f of fields) el.append(f.wrap);
  el.append(submit);
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    const values: Values = {};
    let firstBad: HTMLElement | null = null;
    for (const f of fields) {
      const value = f.input.value.trim();
      let problem = "";
      if (f.spec.required && !value) problem = t("required");
      else if (f.spec.type === "email" && value && !EMAIL.test(value)) problem = t("invalidEmail");
      f.err.textContent = problem;
      f.err.hidden = !problem;
      f.input.setAttribute("aria-invalid", problem ? "true" : "false");
      if (problem && !firstBad) firstBad = f.input;
      if (value) values[f.spec.name] = value;
    }
    if (firstBad) firstBad.focus();
    else onSubmit(values);
  });
  return {
    el,
    busy(on) {
      submit.disabled = on;
    },
  };
}

const PRECHAT: Record<PrechatField, Omit<FieldSpec, "label">> = {
  name: { name: "name", type: "text", required: true, hook: "prechat-name", autocomplete: "name" },
  email: { name: "email", type: "email", required: true, hook: "prechat-email", autocomplete: "email" },
  phone: { name: "phone", type: "tel", required: false, hook: "prechat-phone", autocomplete: "tel" },
};

export function prechatForm(t: Translate, fields: PrechatField[], onSubmit: (values: Values) => void): FormHandle {
  const specs = fields.map((name) => ({ ...PRECHAT[name], label: t(name) }));
  return form("prechat", t("prechatTitle"), specs, t("startChat"), "prechat-submit", t, onSubmit);
}

export function offlineForm(t: Translate, onSubmit: (values: Values) => void): FormHandle {
  const specs: FieldSpec[] = [
    { name: "name", label: t("name"), type: "text", required: false, hook: "offline-name", autocomplete: "name" },
    { name: "email", label: t("email"), type: "email", required: true, hook: "offline-email", autocomplete: "email" },
    { name: "text", label: t("message"), type: "textarea", required: true, hook: "offline-text" },
  ];
  return form("offline-form", t("offlineTitle"), specs, t("offlineSend"), "offline-submit", t, onSubmit);
}

export function csatForm(t: Translate, onSubmit: (rating: number, comment: string) => void): FormHandle {
  let rating = 0;
  const stars: HTMLButtonElement[] = [];
  const submit = h("button", { type: "submit", class: "primary", "data-fd": "csat-submit", disabled: true }, t("csatSend"));
  const row = h("div", { class: "stars", role: "group", "aria-label": t("csatTitle") });
  for (let n = 1; n <= 5; n++) {
    const star = h("button", {
      type: "button",
      "data-fd": `csat-star-${n}`,
      "aria-label": t("csatStar", { n }),
      "aria-pressed": "false",
    });
    star.append(icon(ICONS.star));
    star.addEventListener("click", () => {
      rating = n;
      stars.forEach((s, i) => {
        s.classList.toggle("on", i < n);
        s.setAttribute("aria-pressed", String(i < n));
      });
      submit.disabled = false;
    });
    stars.push(star);
    row.append(star);
  }
  const comment = h("textarea", { "aria-label": t("csatComment"), placeholder: t("csatComment"), maxlength: 1000 });
  const el = h("form", { class: "form", "data-fd": "csat" }, h("p", {}, t("csatTitle")), row, comment, submit);
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    if (rating) onSubmit(rating, comment.value.trim());
  });
  return {
    el,
    busy(on) {
      submit.disabled = on || !rating;
    },
  };
}

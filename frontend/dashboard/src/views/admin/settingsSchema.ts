// Turns a channel adapter's settings JSON Schema (pydantic's model_json_schema) into form fields,
// and the form's values back into a settings object — so a new channel type needs no new screen.
import type { JsonSchema } from "@/api/types";

export type FieldKind = "string" | "number" | "integer" | "boolean" | "enum" | "json" | "colour" | "multi" | "languages";
/** One row of a "languages" field: a text in one language. */
export interface LanguageText {
  lang: string;
  text: string;
}
/** "multi" (a list of choices, shown as checkboxes) holds the chosen options as strings;
 * "languages" (texts by language code, x-per-language) holds its rows. */
export type FormValue = string | boolean | string[] | LanguageText[];

export interface FormField {
  name: string;
  kind: FieldKind;
  title: string;
  description: string;
  required: boolean;
  nullable: boolean;
  default: unknown;
  options: unknown[];
  format: string | null;
  minimum: number | null;
  maximum: number | null;
  maxLength: number | null;
  /** The schema's regular expression for strings, checked before sending. */
  pattern: string | null;
  /** Shown only while each named setting has one of the values (x-shown-when); null: always. */
  shownWhen: Record<string, string[]> | null;
}

export type FieldError = "required" | "number" | "integer" | "range" | "json" | "option" | "tooLong" | "colour" | "pattern" | "duplicateLanguage";

/** A "#rrggbb" colour: pydantic writes this pattern for colour settings (web channel's `colour`). */
const COLOUR_PATTERNS = new Set(["^#[0-9a-fA-F]{6}$", "^#[0-9A-Fa-f]{6}$"]);

function humanize(name: string): string {
  const words = name.replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function resolve(node: JsonSchema, root: JsonSchema, depth = 0): JsonSchema {
  if (depth > 8 || !node.$ref) return node;
  const match = node.$ref.match(/^#\/(\$defs|definitions)\/(.+)$/);
  const defs = match ? (match[1] === "$defs" ? root.$defs : root.definitions) : undefined;
  const target = match && defs ? defs[decodeURIComponent(match[2] ?? "")] : undefined;
  if (!target) return node;
  const { $ref: _ignored, ...rest } = node;
  return resolve({ ...target, ...rest }, root, depth + 1);
}

/** The one non-null variant of an optional field, and whether null is allowed. */
function unwrapNullable(node: JsonSchema, root: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  let schema = resolve(node, root);
  let nullable = false;
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) {
    const nonNull = variants.filter((v) => v.type !== "null");
    nullable = nonNull.length < variants.length;
    if (nonNull.length === 1) {
      const { anyOf: _a, oneOf: _o, ...outer } = schema;
      schema = { ...resolve(nonNull[0] as JsonSchema, root), ...outer };
    }
  }
  if (schema.allOf?.length === 1) {
    const { allOf, ...outer } = schema;
    schema = { ...resolve(allOf[0] as JsonSchema, root), ...outer };
  }
  if (Array.isArray(schema.type)) {
    nullable ||= schema.type.includes("null");
    const types = schema.type.filter((x) => x !== "null");
    schema = { ...schema, type: types.length === 1 ? types[0] : types };
  }
  return { schema, nullable };
}

function kindOf(schema: JsonSchema, root: JsonSchema): FieldKind {
  if (schema["x-per-language"] && schema.type === "object") return "languages";
  if (Array.isArray(schema.enum) && schema.enum.length) return "enum";
  if (schema.const !== undefined) return "enum";
  if (schema.type === "array" && schema.items) {
    const items = resolve(schema.items, root);
    if (Array.isArray(items.enum) && items.enum.length) return "multi";
  }
  if (schema.type === "string" && (schema.format === "color" || (schema.pattern && COLOUR_PATTERNS.has(schema.pattern)))) return "colour";
  switch (schema.type) {
    case "boolean":
      return "boolean";
    case "integer":
      return "integer";
    case "number":
      return "number";
    case "string":
      return "string";
    default:
      return "json";
  }
}

export function fieldsFromSchema(root: JsonSchema | null | undefined): FormField[] {
  if (!root) return [];
  const top = resolve(root, root);
  const required = new Set(top.required ?? []);
  return Object.entries(top.properties ?? {}).map(([name, raw]) => {
    const { schema, nullable } = unwrapNullable(raw, root);
    const kind = kindOf(schema, root);
    // A "languages" field checks its codes and texts by its one key pattern and value schema.
    const [keyPattern, texts] = kind === "languages" ? (Object.entries(schema.patternProperties ?? {})[0] ?? [null, null]) : [null, null];
    return {
      name,
      kind,
      title: schema.title ?? raw.title ?? humanize(name),
      description: raw.description ?? schema.description ?? "",
      required: required.has(name),
      nullable,
      default: raw.default ?? schema.default,
      options: kind === "enum" ? (schema.enum ?? [schema.const]) : kind === "multi" ? (resolve(schema.items ?? {}, root).enum ?? []) : [],
      format: schema.format ?? null,
      minimum: schema.minimum ?? null,
      maximum: schema.maximum ?? null,
      maxLength: (texts ? texts.maxLength : schema.maxLength) ?? null,
      pattern: (kind === "languages" ? keyPattern : schema.pattern) ?? null,
      shownWhen: raw["x-shown-when"] ?? schema["x-shown-when"] ?? null,
    };
  });
}

/** Form values for the fields: the current settings, else the defaults. */
export function initialValues(fields: FormField[], current: Record<string, unknown> = {}): Record<string, FormValue> {
  const values: Record<string, FormValue> = {};
  for (const f of fields) {
    const v = f.name in current ? current[f.name] : f.default;
    if (f.kind === "boolean") values[f.name] = v === undefined || v === null ? false : Boolean(v);
    else if (f.kind === "multi") values[f.name] = Array.isArray(v) ? v.map(String) : [];
    else if (f.kind === "languages") values[f.name] = languageRows(v);
    else if (f.kind === "json") values[f.name] = v === undefined || v === null ? "" : JSON.stringify(v, null, 2);
    else values[f.name] = v === undefined || v === null ? "" : String(v);
  }
  return values;
}

/** The settings object for the API, or the errors by field name. Empty optional fields are left out
 * (the adapter's default applies), sent as null when the field allows null, or sent empty when
 * empty is the field's default. An empty list of
 * choices whose schema has no default (pydantic writes none for a default_factory) is left out too:
 * the adapter's own default is not known here. */
export function toSettings(
  fields: FormField[],
  values: Record<string, FormValue>,
): { settings: Record<string, unknown>; errors: Record<string, FieldError> } {
  const settings: Record<string, unknown> = {};
  const errors: Record<string, FieldError> = {};
  for (const f of fields) {
    const raw = values[f.name];
    if (f.kind === "boolean") {
      settings[f.name] = raw === true;
      continue;
    }
    if (f.kind === "languages") {
      const checked = languageTexts(f, Array.isArray(raw) ? (raw as LanguageText[]) : []);
      if (typeof checked === "string") errors[f.name] = checked;
      else settings[f.name] = checked; // always sent: the server merges, and {} clears
      continue;
    }
    if (f.kind === "multi") {
      const chosen = Array.isArray(raw) ? (raw as string[]) : [];
      if (chosen.some((c) => !f.options.some((o) => String(o) === c))) errors[f.name] = "option";
      else if (chosen.length === 0 && f.default === undefined) {
        if (f.required) errors[f.name] = "required";
      } else settings[f.name] = f.options.filter((o) => chosen.includes(String(o)));
      continue;
    }
    // Vue's v-model on an <input type="number"> hands back a number, not text.
    const value: unknown = raw;
    const text = typeof value === "number" ? String(value) : typeof raw === "string" ? raw.trim() : "";
    if (text === "") {
      if (f.required) errors[f.name] = "required";
      else if (f.nullable) settings[f.name] = null;
      // The server merges settings, so a field left out keeps its old value: a text whose
      // default is empty (email from_name, web invitation_text) must be sent empty to clear it.
      else if (f.default === "") settings[f.name] = "";
      continue;
    }
    if (f.kind === "number" || f.kind === "integer") {
      const n = Number(text);
      if (!Number.isFinite(n)) errors[f.name] = "number";
      else if (f.kind === "integer" && !Number.isInteger(n)) errors[f.name] = "integer";
      else if ((f.minimum !== null && n < f.minimum) || (f.maximum !== null && n > f.maximum)) errors[f.name] = "range";
      else settings[f.name] = n;
    } else if (f.kind === "enum") {
      const option = f.options.find((o) => String(o) === text);
      if (option === undefined) errors[f.name] = "option";
      else settings[f.name] = option;
    } else if (f.kind === "json") {
      try {
        settings[f.name] = JSON.parse(text);
      } catch {
        errors[f.name] = "json";
      }
    } else if (f.kind === "colour" && !/^#[0-9a-fA-F]{6}$/.test(text)) {
      errors[f.name] = "colour";
    } else if (f.kind === "string" && f.pattern !== null && !patternMatches(f.pattern, text)) {
      errors[f.name] = "pattern";
    } else if (f.maxLength !== null && text.length > f.maxLength) {
      errors[f.name] = "tooLong";
    } else {
      settings[f.name] = text;
    }
  }
  return { settings, errors };
}

/** Whether text matches a schema pattern; a pattern this browser cannot read is left to the server. */
function patternMatches(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern, "u").test(text);
  } catch {
    return true;
  }
}

/** Whether a field (or secret) with this condition belongs on the form for these values. A hidden
 * field keeps its value: switching back shows what was typed. */
export function isShown(shownWhen: Record<string, string[]> | null | undefined, values: Record<string, FormValue>): boolean {
  if (!shownWhen) return true;
  return Object.entries(shownWhen).every(([name, allowed]) => {
    const v = values[name];
    return typeof v === "string" && allowed.includes(v);
  });
}

/** The rows of a "languages" field from its stored object (an old single string has none). */
function languageRows(value: unknown): LanguageText[] {
  if (!value || typeof value !== "object" || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).map(([lang, text]) => ({ lang, text: typeof text === "string" ? text : "" }));
}

/** A "languages" field's object, or what is wrong with it. Blank rows are dropped. */
function languageTexts(f: FormField, rows: LanguageText[]): Record<string, string> | FieldError {
  const out: Record<string, string> = {};
  for (const row of rows) {
    const lang = row.lang.trim();
    const text = row.text.trim();
    if (!lang && !text) continue;
    if (!lang || (f.pattern !== null && !patternMatches(f.pattern, lang))) return "pattern";
    if (Object.keys(out).some((k) => k.toLowerCase() === lang.toLowerCase())) return "duplicateLanguage";
    if (f.maxLength !== null && text.length > f.maxLength) return "tooLong";
    out[lang] = text;
  }
  return out;
}

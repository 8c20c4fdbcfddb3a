/**
 * A small JSON Schema validator for the subset the generated config schema
 * uses (`type`, `properties`, `additionalProperties`, `required`, `items`,
 * `oneOf`, `enum`, `minimum`, `maximum`, `pattern`, `propertyNames`,
 * `minItems`, `minProperties`; annotations such as `description` are
 * ignored). Written here rather than taken from npm so the config file is
 * checked by the same schema editors see, without a dependency. Pure.
 *
 * @module
 */

/** The supported subset of a JSON Schema. */
export interface Schema {
  /** The JSON Schema dialect (annotation). */
  readonly $schema?: string;
  /** The schema's URI (annotation). */
  readonly $id?: string;
  /** A title for editors (annotation). */
  readonly title?: string;
  /** Shown by editors; for a `pattern`, also said in the message as what was expected. */
  readonly description?: string;
  /** The value used when the key is absent (annotation, for editors). */
  readonly default?: unknown;
  /** The JSON type the value must have. */
  readonly type?: "object" | "array" | "string" | "number" | "integer" | "boolean";
  /** Schemas of known keys of an object. */
  readonly properties?: Readonly<Record<string, Schema>>;
  /** Other keys: `false` refuses them, a schema checks their values. */
  readonly additionalProperties?: boolean | Schema;
  /** A schema every key of an object must match. */
  readonly propertyNames?: Schema;
  /** Keys an object must have. */
  readonly required?: readonly string[];
  /** Fewest keys an object may have. */
  readonly minProperties?: number;
  /** The schema of every item of an array. */
  readonly items?: Schema;
  /** Fewest items an array may have. */
  readonly minItems?: number;
  /** Forms of which exactly one must fit. */
  readonly oneOf?: readonly Schema[];
  /** The values allowed. */
  readonly enum?: readonly unknown[];
  /** Smallest number allowed. */
  readonly minimum?: number;
  /** Largest number allowed. */
  readonly maximum?: number;
  /** A regular expression a string must match. */
  readonly pattern?: string;
}

/** Every way `value` breaks `schema`, each as `path: problem` (empty when valid). */
export function validate(schema: Schema, value: unknown, path = "$"): string[] {
  if (schema.type && !hasType(value, schema.type)) {
    return [`${path}: expected ${schema.type}, got ${describe(value)}`];
  }
  const problems = schema.oneOf ? oneOf(schema.oneOf, value, path) : [];
  if (schema.enum && !schema.enum.includes(value)) {
    problems.push(
      `${path}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`,
    );
  }
  if (typeof value === "number") problems.push(...range(schema, value, path));
  if (typeof value === "string" && schema.pattern && !new RegExp(schema.pattern).test(value)) {
    const expected = schema.description ? ` (expected ${schema.description})` : "";
    problems.push(`${path}: "${value}" does not match ${schema.pattern}${expected}`);
  }
  if (Array.isArray(value)) problems.push(...arrayProblems(schema, value, path));
  if (isObject(value)) problems.push(...objectProblems(schema, value, path));
  return problems;
}

/** Exactly one form must fit; the explanation comes from the form the value was most likely meant as. */
function oneOf(forms: readonly Schema[], value: unknown, path: string): string[] {
  const fits = forms.filter((s) => validate(s, value, path).length === 0);
  if (fits.length === 1) return [];
  // Forms that differ only in which key they require: say so in those words.
  const keys = forms.map((s) => (Object.keys(s).length === 1 ? s.required : undefined));
  if (keys.every((k) => k?.length === 1)) {
    const names = keys.map((k) => `"${k![0]}"`).join(" or ");
    return [`${path}: needs exactly one of ${names}${fits.length > 1 ? ", not several" : ""}`];
  }
  if (fits.length > 1) return [`${path}: matches more than one allowed form`];
  const sameType = forms.find((s) => meantAs(s, value));
  if (sameType) return validate(sameType, value, path);
  const all = forms.map((s) => validate(s, value, path));
  return all.sort((a, b) => a.length - b.length)[0];
}

/**
 * Whether `value` has a type the form declares, itself or through its own
 * `oneOf` (`false`, or `true` or an object): an object with one bad key is
 * then explained as the object form, not as "expected boolean".
 */
function meantAs(schema: Schema, value: unknown): boolean {
  if (schema.type !== undefined) return hasType(value, schema.type);
  return schema.oneOf?.some((s) => meantAs(s, value)) ?? false;
}

function range(schema: Schema, value: number, path: string): string[] {
  if (schema.minimum !== undefined && value < schema.minimum) {
    return [`${path}: must be at least ${schema.minimum}`];
  }
  if (schema.maximum !== undefined && value > schema.maximum) {
    return [`${path}: must be at most ${schema.maximum}`];
  }
  return [];
}

function arrayProblems(schema: Schema, value: unknown[], path: string): string[] {
  const problems: string[] = [];
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    problems.push(`${path}: needs at least ${schema.minItems} item(s)`);
  }
  if (schema.items) {
    value.forEach((item, i) => problems.push(...validate(schema.items!, item, `${path}[${i}]`)));
  }
  return problems;
}

function objectProblems(schema: Schema, value: Record<string, unknown>, path: string): string[] {
  const problems: string[] = [];
  for (const key of schema.required ?? []) {
    if (!(key in value)) problems.push(`${path}: missing "${key}"`);
  }
  const count = Object.keys(value).length;
  if (schema.minProperties !== undefined && count < schema.minProperties) {
    problems.push(`${path}: needs at least ${schema.minProperties} entry(s)`);
  }
  for (const [key, v] of Object.entries(value)) {
    const where = `${path}.${key}`;
    if (schema.propertyNames) problems.push(...validate(schema.propertyNames, key, where));
    const sub = schema.properties?.[key];
    if (sub) problems.push(...validate(sub, v, where));
    else if (schema.additionalProperties === false) problems.push(`${where}: unknown setting`);
    else if (typeof schema.additionalProperties === "object") {
      problems.push(...validate(schema.additionalProperties, v, where));
    }
  }
  return problems;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function hasType(v: unknown, type: NonNullable<Schema["type"]>): boolean {
  switch (type) {
    case "object":
      return isObject(v);
    case "array":
      return Array.isArray(v);
    case "integer":
      return Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "string":
      return typeof v === "string";
    case "boolean":
      return typeof v === "boolean";
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

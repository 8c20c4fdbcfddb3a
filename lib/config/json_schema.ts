/**
 * A small JSON Schema validator for the subset `schema/lb.schema.json` uses
 * (`type`, `properties`, `additionalProperties`, `required`, `items`,
 * `oneOf`, `enum`, `minimum`, `maximum`). Written here rather than taken from
 * npm so the config file is checked by the same schema editors see, without
 * a dependency. Pure.
 *
 * @module
 */

/** The supported subset of a JSON Schema. */
export interface Schema {
  readonly type?: "object" | "array" | "string" | "number" | "integer" | "boolean";
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly additionalProperties?: boolean | Schema;
  readonly required?: readonly string[];
  readonly items?: Schema;
  readonly oneOf?: readonly Schema[];
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
}

/** Every way `value` breaks `schema`, each as `path: problem` (empty when valid). */
export function validate(schema: Schema, value: unknown, path = "$"): string[] {
  if (schema.oneOf) {
    const fits = schema.oneOf.filter((s) => validate(s, value, path).length === 0);
    if (fits.length === 1) return [];
    if (fits.length > 1) return [`${path}: matches more than one allowed form`];
    // Explain with the form whose type the value has, else the closest one.
    const sameType = schema.oneOf.find((s) => s.type !== undefined && hasType(value, s.type));
    if (sameType) return validate(sameType, value, path);
    const all = schema.oneOf.map((s) => validate(s, value, path));
    return all.sort((a, b) => a.length - b.length)[0];
  }
  if (schema.type && !hasType(value, schema.type)) {
    return [`${path}: expected ${schema.type}, got ${describe(value)}`];
  }
  const problems: string[] = [];
  if (schema.enum && !schema.enum.includes(value)) {
    problems.push(
      `${path}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`,
    );
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) {
      problems.push(`${path}: must be at least ${schema.minimum}`);
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      problems.push(`${path}: must be at most ${schema.maximum}`);
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => problems.push(...validate(schema.items!, item, `${path}[${i}]`)));
  }
  if (isObject(value)) {
    for (const key of schema.required ?? []) {
      if (!(key in value)) problems.push(`${path}: missing "${key}"`);
    }
    for (const [key, v] of Object.entries(value)) {
      const sub = schema.properties?.[key];
      const where = `${path}.${key}`;
      if (sub) problems.push(...validate(sub, v, where));
      else if (schema.additionalProperties === false) problems.push(`${where}: unknown setting`);
      else if (typeof schema.additionalProperties === "object") {
        problems.push(...validate(schema.additionalProperties, v, where));
      }
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

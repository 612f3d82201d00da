import { z } from "zod";

/** A config problem: the key path and what is wrong or allowed. */
export interface Problem {
    path: string;
    message: string;
}

export function formatPath(path: (string | number)[], root: string): string {
    return path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : `${acc}.${p}`), root);
}

/** The schema reached by following `path` through objects, records, arrays and wrappers. */
function schemaAt(schema: z.ZodTypeAny, path: (string | number)[]): z.ZodTypeAny | undefined {
    let s: z.ZodTypeAny | undefined = schema;
    const unwrap = (t: z.ZodTypeAny): z.ZodTypeAny => {
        if (t instanceof z.ZodOptional || t instanceof z.ZodNullable) return unwrap(t.unwrap());
        if (t instanceof z.ZodDefault) return unwrap(t._def.innerType);
        if (t instanceof z.ZodEffects) return unwrap(t.innerType());
        return t;
    };
    for (const key of path) {
        if (!s) return undefined;
        s = unwrap(s);
        if (s instanceof z.ZodObject) s = s.shape[key as string];
        else if (s instanceof z.ZodRecord) s = s.valueSchema;
        else if (s instanceof z.ZodArray) s = s.element;
        else return undefined;
    }
    return s ? unwrap(s) : undefined;
}

function describeValue(v: unknown): string {
    if (v === undefined) return "nothing";
    if (v === null) return "null";
    if (Array.isArray(v)) return "a list";
    if (typeof v === "object") return "an object";
    if (typeof v === "string") return `"${v}"`;
    return String(v);
}

function valueAt(input: unknown, path: (string | number)[]): unknown {
    return path.reduce<unknown>((acc, p) => (acc !== null && typeof acc === "object" ? (acc as Record<string | number, unknown>)[p] : undefined), input);
}

/** Turns zod issues into one `key.path: message` problem each, with what is allowed. */
export function zodProblems(error: z.ZodError, schema: z.ZodTypeAny, input: unknown, root: string): Problem[] {
    const out: Problem[] = [];
    for (const issue of error.issues) {
        const path = formatPath(issue.path, root);
        const got = valueAt(input, issue.path);
        switch (issue.code) {
            case "unrecognized_keys": {
                const target = schemaAt(schema, issue.path);
                const allowed = target instanceof z.ZodObject ? Object.keys(target.shape).sort().join(", ") : "";
                for (const key of issue.keys) {
                    out.push({ path: `${path}.${key}`, message: `unknown key; allowed here: ${allowed}` });
                }
                break;
            }
            case "invalid_type":
                out.push({
                    path,
                    message:
                        issue.received === "undefined"
                            ? `is required (${issue.expected})`
                            : issue.message.startsWith("Expected") || issue.message === "Required"
                              ? `must be ${/^[aeiou]/.test(issue.expected) ? "an" : "a"} ${issue.expected}, got ${describeValue(got)}`
                              : issue.message,
                });
                break;
            case "invalid_enum_value":
                out.push({ path, message: `must be one of ${issue.options.map((o) => `"${String(o)}"`).join(", ")}; got ${describeValue(got)}` });
                break;
            case "invalid_union_discriminator":
                out.push({ path: `${path}`, message: `must be one of ${issue.options.map((o) => `"${String(o)}"`).join(", ")}; got ${describeValue(got)}` });
                break;
            case "too_small":
                out.push({
                    path,
                    message:
                        issue.type === "array"
                            ? `needs at least ${issue.minimum} entr${issue.minimum === 1 ? "y" : "ies"}`
                            : issue.type === "string"
                              ? `must not be empty`
                              : `must be ≥ ${issue.minimum}, got ${describeValue(got)}`,
                });
                break;
            case "too_big":
                out.push({ path, message: `must be ≤ ${issue.maximum}, got ${describeValue(got)}` });
                break;
            case "invalid_string":
                out.push({ path, message: issue.message === "Invalid" ? `is malformed: ${describeValue(got)}` : issue.message });
                break;
            default:
                out.push({ path, message: issue.message });
        }
    }
    return out;
}

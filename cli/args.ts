/** A tiny, strict flag parser: unknown flags are errors, never ignored. */
export class UsageError extends Error {}

export interface FlagSpec {
    /** "strings": a string flag that may be given more than once (every value in `lists`). */
    [flag: string]: "string" | "boolean" | "strings";
}

export function parseFlags(argv: string[], spec: FlagSpec): { flags: Record<string, string | boolean>; positional: string[]; lists: Record<string, string[]> } {
    const flags: Record<string, string | boolean> = {};
    const positional: string[] = [];
    const lists: Record<string, string[]> = {};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (!arg.startsWith("--")) {
            positional.push(arg);
            continue;
        }
        const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
        const kind = spec[name];
        if (kind === undefined) {
            throw new UsageError(`unknown flag --${name}; allowed: ${Object.keys(spec).map((f) => `--${f}`).join(", ")}`);
        }
        if (kind === "boolean") {
            flags[name] = true;
        } else {
            const value = inline ?? argv[++i];
            if (value === undefined || value.startsWith("--")) throw new UsageError(`--${name} needs a value`);
            if (kind === "string" && flags[name] !== undefined) throw new UsageError(`--${name} is given twice; give it once`);
            flags[name] = value;
            if (kind === "strings") (lists[name] ??= []).push(value);
        }
    }
    return { flags, positional, lists };
}

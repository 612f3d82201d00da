import { createHash, X509Certificate } from "crypto";
import * as fs from "fs";
import { parseFlags, UsageError } from "../args";
import { EXIT } from "../common";
import { LoadedStack, loadStackFile, stackFilePath, stackNames } from "../stackfile";
import { PlatformSpec } from "../../components/platform/config";
import { nodeSandbox } from "../../components/platform/wiring";

export const summary = "show what differs between two stacks' effective config (defaults applied): diff-stacks A B";

/** Values longer than this are cut in the table (never in --json). */
const MAX_CELL = 48;
/** Shown for a key one stack does not have. */
const ABSENT = "—";

/** A stack argument: a name from stacks/ (as for --stack) or a path to a Pulumi.<stack>.yaml. */
function looksLikePath(arg: string): boolean {
    return arg.includes("/") || /\.ya?ml$/.test(arg);
}

/** Loads one stack argument, or returns the message saying why it cannot be. */
function load(arg: string): LoadedStack | string {
    if (looksLikePath(arg)) {
        if (!fs.existsSync(arg)) return `no stack file ${arg}`;
        return loadStackFile(arg);
    }
    if (!/^[A-Za-z0-9._-]+$/.test(arg) || !fs.existsSync(stackFilePath(arg))) {
        return `no stack "${arg}"; known stacks: ${stackNames().join(", ")} (or give a path to a stack file)`;
    }
    return loadStackFile(stackFilePath(arg));
}

/** The config with the defaults that come from other keys resolved too (the sandbox image from the Kubernetes minor). */
function effective(spec: PlatformSpec): unknown {
    return { ...spec.config, engine: nodeSandbox(spec) };
}

/** A key segment as it reads in YAML paths: plain when it is an identifier, quoted in brackets otherwise. */
function segment(prefix: string, key: string): string {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return prefix === "" ? key : `${prefix}.${key}`;
    return `${prefix}[${JSON.stringify(key)}]`;
}

const isScalar = (v: unknown) => v === null || typeof v !== "object";

/**
 * Flattens a config to key path → value. Arrays of scalars stay one value (`dns: [a, b]` is one
 * setting); arrays of objects are indexed (`mirrors[0].host`). Empty arrays and objects set nothing,
 * so `mirrors: []` and an absent `mirrors` read the same: none.
 */
export function flatten(value: unknown, prefix = "", out: Map<string, unknown> = new Map()): Map<string, unknown> {
    if (Array.isArray(value)) {
        if (value.length === 0) return out;
        if (value.every(isScalar)) out.set(prefix, value);
        else value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
    } else if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, segment(prefix, k), out);
    } else if (value !== undefined) {
        out.set(prefix, value);
    }
    return out;
}

/**
 * A multi-line string as one line: a certificate as its subject CN and SHA-256 fingerprint (the
 * one `openssl x509 -fingerprint -sha256` prints, first 6 bytes), another PEM block as its label,
 * line count and digest, other text as its first line and line count.
 */
export function summarise(s: string): string {
    if (!s.includes("\n")) return s;
    const lines = s.trim().split("\n");
    const pem = /^-----BEGIN ([A-Z0-9 ]+)-----$/.exec(lines[0]);
    if (pem && pem[1] === "CERTIFICATE") {
        try {
            const cert = new X509Certificate(s);
            const cn = cert.subject.split("\n").find((l) => l.startsWith("CN=")) ?? cert.subject.split("\n")[0];
            return `${cn}, sha256 ${cert.fingerprint256.split(":").slice(0, 6).join(":")}`;
        } catch {
            // Not a parseable certificate: summarised like any PEM block below.
        }
    }
    if (pem) return `PEM ${pem[1]}, ${lines.length} lines, sha256:${createHash("sha256").update(s.trim()).digest("hex").slice(0, 12)}`;
    return `${lines[0]} (+${lines.length - 1} lines)`;
}

/** Long single-line values keep their head and tail: keys and URLs differ at either end. */
const clip = (s: string) => (s.length > MAX_CELL ? `${s.slice(0, MAX_CELL - 16)}…${s.slice(-15)}` : s);

/**
 * One value as table lines: scalars on one line, multi-line strings summarised, lists inline
 * (`[a, b]`) when that fits a cell, else one `- item` per line. Never a raw newline.
 */
export function cellLines(v: unknown): string[] {
    if (v === undefined) return [ABSENT];
    if (Array.isArray(v)) {
        const items = v.map((x) => (typeof x === "string" ? summarise(x) : JSON.stringify(x)));
        const inline = `[${items.join(", ")}]`;
        return inline.length <= MAX_CELL ? [inline] : items.map((i) => clip(`- ${i}`));
    }
    if (typeof v === "string") return [clip(summarise(v))];
    return [JSON.stringify(v)];
}

/** One value as a single table cell (lines joined). */
export function cell(v: unknown): string {
    return cellLines(v).join(" ");
}

export interface StackDiff {
    /** Differing key paths, sorted, with each side's value (undefined when absent). */
    differences: { key: string; a: unknown; b: unknown }[];
    identical: number;
}

/** Compares two flattened configs; key order is stable (sorted) so output is deterministic. */
export function diffConfigs(a: unknown, b: unknown): StackDiff {
    const fa = flatten(a);
    const fb = flatten(b);
    const keys = [...new Set([...fa.keys(), ...fb.keys()])].sort();
    const differences: StackDiff["differences"] = [];
    let identical = 0;
    for (const key of keys) {
        const va = fa.get(key);
        const vb = fb.get(key);
        if (JSON.stringify(va) === JSON.stringify(vb)) identical++;
        else differences.push({ key, a: va, b: vb });
    }
    return { differences, identical };
}

export async function run(argv: string[]): Promise<number> {
    const { flags, positional } = parseFlags(argv, { json: "boolean" });
    if (positional.length !== 2) {
        throw new UsageError(`give two stacks to compare, e.g. \`groundwork diff-stacks dev prod\` (got ${positional.length}); a stack is a name in stacks/ or a path to a stack file`);
    }
    const loaded = positional.map(load);
    let bad = false;
    loaded.forEach((s, i) => {
        if (typeof s === "string") {
            process.stderr.write(`${positional[i]}: ${s}\n`);
            bad = true;
        } else if (!s.spec || s.problems.length > 0) {
            for (const p of s.problems) process.stderr.write(`${s.source}: ${p.path}: ${p.message}\n`);
            process.stderr.write(`${s.source}: invalid stack (${s.problems.length} problem${s.problems.length === 1 ? "" : "s"}); run \`groundwork validate\` on it\n`);
            bad = true;
        }
    });
    if (bad) return EXIT.badInput;
    const [sa, sb] = loaded as LoadedStack[];
    const [na, nb] = positional;
    const { differences, identical } = diffConfigs(effective(sa.spec!), effective(sb.spec!));
    if (flags.json) {
        const out = {
            a: { stack: na, source: sa.source },
            b: { stack: nb, source: sb.source },
            differences: differences.map((d) => ({ key: d.key, a: d.a ?? null, b: d.b ?? null })),
            identical,
        };
        process.stdout.write(JSON.stringify(out, null, 2) + "\n");
        return EXIT.ok;
    }
    // A difference spans as many lines as its longer value; the key is on the first.
    const rows = [["KEY", na, nb]];
    for (const d of differences) {
        const [la, lb] = [cellLines(d.a), cellLines(d.b)];
        for (let i = 0; i < Math.max(la.length, lb.length); i++) rows.push([i === 0 ? d.key : "", la[i] ?? "", lb[i] ?? ""]);
    }
    const width = [0, 1].map((c) => Math.max(...rows.map((r) => r[c].length)));
    const line = (r: string[]) => `${r[0].padEnd(width[0])}  ${r[1].padEnd(width[1])}  ${r[2]}`.trimEnd();
    const count = `${differences.length} key${differences.length === 1 ? "" : "s"} differ, ${identical} identical`;
    const out = [`${na} (${sa.source}) vs ${nb} (${sb.source}): effective config, defaults applied`, ""];
    if (differences.length > 0) out.push(...rows.map(line), "");
    out.push(count);
    process.stdout.write(out.join("\n") + "\n");
    return EXIT.ok;
}

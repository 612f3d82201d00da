import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { parsePlatform, PLATFORM_KEY, PlatformSpec, Problem, SECRET_KEYS, SecretName } from "../components/platform/config";

/** The repository's stack folder (Pulumi.yaml's stackConfigDir). */
export const STACKS_DIR = path.resolve(__dirname, "..", "stacks");

export interface LoadedStack {
    /** Where it came from, for messages. */
    source: string;
    spec?: PlatformSpec;
    problems: Problem[];
    /** Raw `config:` map of the stack file. */
    rawConfig: Record<string, unknown>;
}

const KNOWN_KEYS = new Set<string>([PLATFORM_KEY, ...Object.values(SECRET_KEYS)]);

/** Names of the example stacks shipped in stacks/. */
export function stackNames(): string[] {
    return fs
        .readdirSync(STACKS_DIR)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((n): n is string => n !== undefined)
        .sort();
}

export function stackFilePath(name: string): string {
    return path.join(STACKS_DIR, `Pulumi.${name}.yaml`);
}

/** Reads a Pulumi.<stack>.yaml and validates its groundwork config; never throws on bad input. */
export function loadStackFile(file: string): LoadedStack {
    const source = path.relative(process.cwd(), file) || file;
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        return { source, rawConfig: {}, problems: [{ path: source, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }] };
    }
    let doc: unknown;
    try {
        doc = parseYaml(text, { prettyErrors: true });
    } catch (e) {
        const first = String((e as Error).message).split("\n")[0];
        return { source, rawConfig: {}, problems: [{ path: source, message: `is not valid YAML: ${first}` }] };
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
        return { source, rawConfig: {}, problems: [{ path: source, message: "must be a YAML mapping with a `config:` key" }] };
    }
    const config = (doc as Record<string, unknown>).config;
    if (config === null || typeof config !== "object" || Array.isArray(config)) {
        return { source, rawConfig: {}, problems: [{ path: `${source}: config`, message: "must be a mapping of config keys" }] };
    }
    const rawConfig = config as Record<string, unknown>;
    const problems: Problem[] = [];
    for (const key of Object.keys(rawConfig)) {
        if (key.startsWith("groundwork:") && !KNOWN_KEYS.has(key)) {
            problems.push({ path: key, message: `unknown key; groundwork reads only: ${[...KNOWN_KEYS].sort().join(", ")}` });
        }
    }
    const secrets = new Set<SecretName>();
    for (const [name, key] of Object.entries(SECRET_KEYS) as [SecretName, string][]) {
        const v = rawConfig[key];
        if (v === undefined) continue;
        if (v !== null && typeof v === "object" && "secure" in v) secrets.add(name);
        else problems.push({ path: key, message: `must be a secret; set it with \`pulumi config set --secret ${key}\`` });
    }
    const result = parsePlatform(rawConfig[PLATFORM_KEY], secrets);
    return { source, spec: problems.length === 0 ? result.spec : undefined, problems: [...problems, ...result.problems], rawConfig };
}

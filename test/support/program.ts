import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { stackFilePath } from "../../cli/stackfile";
import { recorder, settle } from "./mocks";

const PROGRAM = require.resolve("../../stacks/index.ts");

/** A stack file's config as setAllConfig wants it: strings (JSON for objects), secrets listed. */
export function stackConfig(stack: string): { config: Record<string, string>; secretKeys: string[] } {
    const raw = parse(fs.readFileSync(stackFilePath(stack), "utf8")).config as Record<string, unknown>;
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(raw)) {
        if (value !== null && typeof value === "object" && "secure" in (value as object)) {
            config[key] = `test-secret-for-${key}`;
            secretKeys.push(key);
        } else {
            config[key] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    return { config, secretKeys };
}

/** Runs the program (stacks/index.ts) under the mocks with a stack's config; returns its exports. */
export async function runProgram(stack: string, mutate?: (config: Record<string, string>) => void): Promise<Record<string, pulumi.Output<unknown>>> {
    const { config, secretKeys } = stackConfig(stack);
    mutate?.(config);
    pulumi.runtime.setAllConfig(config, secretKeys);
    delete require.cache[PROGRAM];
    recorder.reset();
    const limit = Error.stackTraceLimit;
    const exports = await import(PROGRAM);
    // The program drops stack traces for speed; tests keep theirs for readable failures.
    Error.stackTraceLimit = limit;
    await settle();
    // Resources registered inside apply chains (cluster add-ons, registry parts) arrive late:
    // wait until no registration has arrived for a while.
    let seen = -1;
    while (seen !== recorder.registrations.length) {
        seen = recorder.registrations.length;
        await new Promise((r) => setTimeout(r, 50));
    }
    return exports;
}

/** Registration counts by type. */
export function countsByType(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of recorder.registrations) counts[r.type] = (counts[r.type] ?? 0) + 1;
    return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

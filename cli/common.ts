import * as fs from "fs";
import { UsageError } from "./args";
import { LoadedStack, loadStackFile, stackFilePath, stackNames } from "./stackfile";
import { PlatformSpec } from "../components/platform/config";

/** Exit codes: 0 ok, 1 failure while working, 2 bad input (config, flags, files). */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

export const STACK_FLAGS = { stack: "string", "stack-file": "string" } as const;

/** Resolves `--stack NAME` or `--stack-file FILE` (exactly one) to a loaded, validated stack. */
export function resolveStack(flags: Record<string, string | boolean>): LoadedStack {
    const name = flags.stack as string | undefined;
    const file = flags["stack-file"] as string | undefined;
    if ((name === undefined) === (file === undefined)) {
        throw new UsageError("give exactly one of --stack NAME or --stack-file FILE");
    }
    if (name !== undefined) {
        const p = stackFilePath(name);
        if (!/^[A-Za-z0-9._-]+$/.test(name) || !fs.existsSync(p)) {
            throw new UsageError(`--stack: no stack "${name}"; known stacks: ${stackNames().join(", ")}`);
        }
        return loadStackFile(p);
    }
    return loadStackFile(file!);
}

/** Prints every problem on its own line and returns the bad-input exit code. */
export function reportProblems(stack: LoadedStack): number {
    for (const p of stack.problems) process.stderr.write(`${p.path}: ${p.message}\n`);
    process.stderr.write(`${stack.source}: ${stack.problems.length} problem${stack.problems.length === 1 ? "" : "s"}\n`);
    return EXIT.badInput;
}

/** Loads the stack from flags; on problems prints them and returns the exit code instead. */
export function specOrExit(flags: Record<string, string | boolean>): { spec: PlatformSpec; stack: LoadedStack } | number {
    const stack = resolveStack(flags);
    if (!stack.spec || stack.problems.length > 0) return reportProblems(stack);
    return { spec: stack.spec, stack };
}

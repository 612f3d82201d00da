import { spawnSync } from "child_process";
import * as path from "path";

/** The repository root: integration tests run their commands from it. */
export const REPO = path.resolve(__dirname, "../..");

export interface Run {
    code: number;
    stdout: string;
    stderr: string;
    seconds: number;
}

/**
 * Runs a bash script from the repository root with extra environment, timed. `echo` shows its
 * stdout ("stdout") or stdout and stderr ("all") indented under the test's name; `input` is its stdin.
 */
export function sh(script: string, env: NodeJS.ProcessEnv = {}, opts: { echo?: "stdout" | "all"; input?: string } = {}): Run {
    const t0 = Date.now();
    const r = spawnSync("bash", ["-c", script], { cwd: REPO, env: { ...process.env, ...env }, input: opts.input, encoding: "utf8", maxBuffer: 1 << 28 });
    if (opts.echo) process.stdout.write((opts.echo === "all" ? r.stdout + r.stderr : r.stdout).replace(/^/gm, "      "));
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
}

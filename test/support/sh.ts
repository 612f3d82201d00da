import { spawn, spawnSync } from "child_process";
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

/** sh, in the background: resolves when the script ends (for a test that acts while it runs). */
export function shAsync(script: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
    const t0 = Date.now();
    return new Promise((resolve) => {
        const child = spawn("bash", ["-c", script], { cwd: REPO, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, seconds: (Date.now() - t0) / 1000 }));
    });
}

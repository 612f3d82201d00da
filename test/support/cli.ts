import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { main } from "../../cli/main";

export interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs the CLI in-process with stdout/stderr captured. */
export async function runCli(argv: string[]): Promise<CliResult> {
    const out: string[] = [];
    const err: string[] = [];
    const o = process.stdout.write;
    const e = process.stderr.write;
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof o;
    process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof e;
    try {
        const code = await main(argv);
        return { code, stdout: out.join(""), stderr: err.join("") };
    } finally {
        process.stdout.write = o;
        process.stderr.write = e;
    }
}

/** Writes a stack file with the given config map to a temp folder; returns its path. */
export function writeStackFile(config: Record<string, unknown>, name = "Pulumi.case.yaml"): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-stack-"));
    const file = path.join(dir, name);
    fs.writeFileSync(file, stringify({ config }));
    return file;
}

import { UsageError } from "./args";
import { EXIT } from "./common";

interface Command {
    summary: string;
    run(argv: string[]): Promise<number>;
}

/** Sub-commands, loaded lazily so `groundwork validate` does not load Pulumi. */
const COMMANDS: Record<string, () => Command> = {
    validate: () => require("./commands/validate"),
    plan: () => require("./commands/plan"),
    render: () => require("./commands/render"),
    bom: () => require("./commands/bom"),
    "diff-stacks": () => require("./commands/diff-stacks"),
    seed: () => require("./commands/seed"),
    migrate: () => require("./commands/migrate"),
};

function usage(): string {
    const lines = Object.entries(COMMANDS).map(([name, load]) => {
        let summary: string;
        try {
            summary = load().summary;
        } catch {
            summary = "(not available in this build)";
        }
        return `  ${name.padEnd(12)} ${summary}`;
    });
    return ["usage: groundwork <command> [flags]", "", "commands:", ...lines, "", "stack selection: --stack NAME (stacks/Pulumi.NAME.yaml) or --stack-file FILE"].join("\n");
}

export async function main(argv: string[]): Promise<number> {
    const [name, ...rest] = argv;
    if (name === undefined || name === "help" || name === "--help" || name === "-h") {
        process.stdout.write(usage() + "\n");
        return name === undefined ? EXIT.badInput : EXIT.ok;
    }
    const load = COMMANDS[name];
    if (!load) {
        process.stderr.write(`groundwork: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(", ")}\n`);
        return EXIT.badInput;
    }
    try {
        return await load().run(rest);
    } catch (e) {
        if (e instanceof UsageError) {
            process.stderr.write(`groundwork ${name}: ${e.message}\n`);
            return EXIT.badInput;
        }
        process.stderr.write(`groundwork ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
        if (process.env.GROUNDWORK_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
        return EXIT.failed;
    }
}

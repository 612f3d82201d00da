// Evaluates the whole program under mocks for N machines and prints time and peak memory.
//   npx ts-node -T bench/platform-scale.ts         → sizes 100, 1000, 2000, each in its own process,
//                                                    the program compiled to JavaScript first (as a
//                                                    deployment would run it) and through ts-node
//   … bench/platform-scale.ts --size N              → one size (what each child runs)
import { execFileSync } from "child_process";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { generatedOutputs } from "../test/support/mocks";

function configFor(size: number): Record<string, unknown> {
    const cp = 3;
    return {
        name: "scale",
        environment: "qa",
        network: { cidr: "10.64.0.0/16", gateway: "10.64.0.1", vip: "10.64.0.10", pools: { control: "10.64.0.16/29", workers: "10.64.8.0/21" } },
        machines: {
            controlPlane: { count: cp, backend: "openstack", pool: "control" },
            workers: { general: { count: size - cp, backend: "openstack", pool: "workers" } },
            sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchKeyBenchKeyBenchKeyBenchKeyBenchKe01 bench"],
        },
        backends: { openstack: { network: { name: "scale-net" }, flavor: "m1.large", image: "debian-12" } },
        cluster: { kubernetesVersion: "1.33.13" },
    };
}

async function one(size: number): Promise<void> {
    let registrations = 0;
    await pulumi.runtime.setMocks(
        {
            newResource: (a) => (registrations++, { id: `${a.name}-id`, state: { ...a.inputs, ...generatedOutputs(a.type, a.name, a.inputs) } }),
            call: (a) => ({ id: `id-of-${a.token}`, ...a.inputs }),
        },
        "groundwork",
        "bench",
        false,
    );
    pulumi.runtime.setAllConfig({ "groundwork:platform": JSON.stringify(configFor(size)) });
    const t0 = process.hrtime.bigint();
    const program = require("../stacks/index") as Record<string, pulumi.Output<unknown>>;
    await new Promise<void>((resolve) => program.inventory.apply(() => resolve()));
    // Registrations made inside apply chains arrive late: wait until none arrived for 50 ms,
    // and do not count that quiet period.
    let seen = -1;
    let lastChange = process.hrtime.bigint();
    while (seen !== registrations) {
        if (seen !== -1) lastChange = process.hrtime.bigint();
        seen = registrations;
        await new Promise((r) => setTimeout(r, 50));
    }
    const ms = Number(lastChange - t0) / 1e6;
    const peakMiB = process.resourceUsage().maxRSS / 1024;
    process.stdout.write(JSON.stringify({ size, ms: Math.round(ms), peakMiB: Math.round(peakMiB), registrations }) + "\n");
}

interface Row {
    size: number;
    ms: number;
    peakMiB: number;
    registrations: number;
}

function runMode(mode: "compiled" | "ts-node", sizes: number[]): Row[] {
    const repo = path.resolve(__dirname, "..");
    let argv: (size: number) => string[];
    if (mode === "compiled") {
        const out = path.join(repo, ".cache", "bench-js");
        execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", repo, "--outDir", out, "--noEmit", "false", "--sourceMap", "false"], { cwd: repo, stdio: "inherit" });
        argv = (size) => [path.join(out, "bench", "platform-scale.js"), "--size", String(size)];
    } else {
        argv = (size) => ["-r", "ts-node/register/transpile-only", __filename, "--size", String(size)];
    }
    return sizes.map((size) => {
        const out = execFileSync(process.execPath, argv(size), { cwd: repo, encoding: "utf8", maxBuffer: 1 << 26 });
        return JSON.parse(out.trim().split("\n").pop()!) as Row;
    });
}

function all(): void {
    const sizes = [100, 1000, 2000];
    for (const mode of ["compiled", "ts-node"] as const) {
        console.log(`\n${mode === "compiled" ? "program compiled to JavaScript" : "program through ts-node (transpile-only, source maps)"}`);
        report(runMode(mode, sizes));
    }
}

function report(rows: Row[]): void {
    console.log("machines  registrations  time (s)  peak RSS (MiB)");
    for (const r of rows) console.log(`${String(r.size).padStart(8)}  ${String(r.registrations).padStart(13)}  ${(r.ms / 1000).toFixed(2).padStart(8)}  ${String(r.peakMiB).padStart(14)}`);
    const t1000 = rows.find((r) => r.size === 1000)!;
    const t2000 = rows.find((r) => r.size === 2000)!;
    console.log(`time ratio 2000/1000: ${(t2000.ms / t1000.ms).toFixed(2)} (goal ≤ 2.2); at 1000: ${(t1000.ms / 1000).toFixed(2)} s (goal < 10 s), ${t1000.peakMiB} MiB (goal < 1024)`);
}

const i = process.argv.indexOf("--size");
if (i > 0) {
    one(Number(process.argv[i + 1])).catch((e) => {
        console.error(e instanceof Error ? e.message : e);
        process.exit(1);
    });
} else {
    all();
}

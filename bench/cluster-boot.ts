/**
 * The real cluster in guests (test/guest/cluster/cluster.guest.ts): boot → both nodes Ready and
 * `kubeadm init`'s own duration, median of --runs runs (default 3, one after another), next to
 * the floor: boot → cloud-init done for the same three guests on the same image.
 *
 *   TS_NODE_TRANSPILE_ONLY=1 npx ts-node bench/cluster-boot.ts [--runs N]
 *   TS_NODE_TRANSPILE_ONLY=1 npx ts-node bench/cluster-boot.ts --logs LOG...   # runs already made (e.g. CI's cluster stage)
 *
 * Each run is `bash tools/test.sh cluster`; the figures come from the `timings:` line the test
 * prints when it ends (seconds; "…At" are offsets from the test's start, the rest durations).
 * A run that fails still reports what it reached.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const REPO = path.resolve(__dirname, "..");

type Timings = Record<string, number | string>;

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The test's last `timings: {...}` line in a log, or undefined. */
export function timingsFromLog(text: string): Timings | undefined {
    const lines = text.split("\n").filter((l) => /\[cluster\.guest \+[0-9.]+s\] timings: \{/.test(l));
    if (lines.length === 0) return undefined;
    return JSON.parse(lines[lines.length - 1].slice(lines[lines.length - 1].indexOf("{")));
}

/** The figures the bench reports for one run (undefined where the run did not get there). */
export function figures(t: Timings): Record<string, number | undefined> {
    const n = (k: string) => (typeof t[k] === "number" ? (t[k] as number) : undefined);
    const bootAt = n("bootAtSec");
    const after = (k: string) => (bootAt !== undefined && n(k) !== undefined ? Math.round((n(k)! - bootAt) * 10) / 10 : undefined);
    return {
        "floor: boot → cloud-init done (3 guests)": n("guestsUpSec"),
        "registry bootstrap": n("registryReadySec"),
        "seed (cluster and workload images)": n("seedSec"),
        "kubeadm init": n("kubeadmInitSec"),
        "control-plane bootstrap": n("controlPlaneBootstrapSec"),
        "boot → VIP answers": after("vipReadySec"),
        "boot → both nodes Ready": after("nodesReadySec"),
        "boot → CoreDNS available": after("corednsReadySec"),
        "web pod running (after apply)": n("podRunningSec"),
        "apps: every workload ready (after apply)": n("appsReadySec"),
        "apps: the backup job complete": n("backupSec"),
    };
}

function parseArgs(argv: string[]): { runs: number; logs: string[] } {
    let runs = 3;
    const logs: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--runs" && /^[1-9]\d*$/.test(argv[i + 1] ?? "")) runs = Number(argv[++i]);
        else if (argv[i] === "--logs") while (argv[i + 1] !== undefined && !argv[i + 1].startsWith("--")) logs.push(argv[++i]);
        else {
            process.stderr.write(`cluster-boot: unknown argument "${argv[i]}"; usage: cluster-boot.ts [--runs N] | --logs LOG...\n`);
            process.exit(2);
        }
    }
    return { runs, logs };
}

function main(): void {
    const { runs, logs } = parseArgs(process.argv.slice(2));
    const results: { label: string; ok: boolean; timings: Timings }[] = [];
    if (logs.length > 0) {
        for (const log of logs) {
            if (!fs.existsSync(log)) {
                process.stderr.write(`cluster-boot: --logs ${log}: no such file\n`);
                process.exit(2);
            }
            const text = fs.readFileSync(log, "utf8");
            const t = timingsFromLog(text);
            if (!t) {
                process.stderr.write(`cluster-boot: ${log} holds no "[cluster.guest …] timings:" line (not a cluster-stage log?)\n`);
                process.exit(2);
            }
            results.push({ label: path.basename(log), ok: /tests: \d+ passed, 0 failed/.test(text) || /\b1 passing\b/.test(text), timings: t });
        }
    } else {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-bench-cluster-"));
        for (let i = 1; i <= runs; i++) {
            const log = path.join(dir, `run-${i}.log`);
            const t0 = Date.now();
            process.stderr.write(`cluster-boot: run ${i}/${runs} (log: ${log})\n`);
            const r = spawnSync("bash", [path.join(REPO, "tools/test.sh"), "cluster"], { cwd: REPO, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
            fs.writeFileSync(log, `${r.stdout ?? ""}\n${r.stderr ?? ""}`);
            const t = timingsFromLog(`${r.stdout ?? ""}\n${r.stderr ?? ""}`) ?? {};
            results.push({ label: `run ${i}`, ok: r.status === 0, timings: t });
            process.stderr.write(`cluster-boot: run ${i} ${r.status === 0 ? "passed" : `FAILED (exit ${r.status})`} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
        }
    }
    const perRun = results.map((r) => figures(r.timings));
    const names = Object.keys(figures({}));
    const width = Math.max(...names.map((n) => n.length));
    const cell = (v: number | undefined) => (v === undefined ? "—" : `${v.toFixed(0)} s`).padStart(8);
    console.log(`${"seconds".padEnd(width)}  ${results.map((r) => `${r.label}${r.ok ? "" : " (failed)"}`.slice(0, 20).padStart(20)).join("")}${"median".padStart(10)}`);
    for (const name of names) {
        const values = perRun.map((f) => f[name]);
        const known = values.filter((v): v is number => v !== undefined);
        console.log(`${name.padEnd(width)}  ${values.map((v) => cell(v).padStart(20)).join("")}${(known.length ? cell(median(known)) : "—").padStart(10)}`);
    }
    // The ratio over the runs that recorded both figures only.
    const both = perRun.filter((f) => f["boot → both nodes Ready"] !== undefined && f["floor: boot → cloud-init done (3 guests)"] !== undefined);
    if (both.length) {
        const ready = median(both.map((f) => f["boot → both nodes Ready"]!));
        const floor = median(both.map((f) => f["floor: boot → cloud-init done (3 guests)"]!));
        console.log(`\nboot → Ready ${ready.toFixed(0)} s is ${(ready / floor).toFixed(1)}× the floor ${floor.toFixed(0)} s (medians over the ${both.length} run(s) that recorded both)`);
    }
    if (results.some((r) => !r.ok)) process.exitCode = 1;
}

if (require.main === module) main();

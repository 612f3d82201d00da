/**
 * Engine layer on real guests: boot → cloud-init done and boot → containerd active (median of
 * --runs boots, default 3, one guest at a time), and the base image build time, first (into a
 * fresh cache folder) and cached. Each boot renders the real engine bootstrap (air-gapped install
 * from the host's mirror) exactly as test/guest/engine.guest.ts does.
 *
 *   TS_NODE_TRANSPILE_ONLY=1 npx ts-node bench/engine-boot.ts [--runs N] [--skip-image]
 *
 * Times "after qemu start" are measured by the harness on the host; "guest clock" times are
 * systemd's ActiveEnterTimestampMonotonic (seconds since the guest kernel started).
 * --skip-image skips the first-build measurement (minutes of debootstrap).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { bootEngineGuest, engineMirror, throwAwayCa, throwAwaySshKey } from "../test/engine/guest-scenario";

const REPO = path.resolve(__dirname, "..");

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs tools/guest/image.sh with GROUNDWORK_CACHE=cache; returns its wall time in seconds. */
function timeImage(cache: string): number {
    const t = Date.now();
    const r = spawnSync(path.join(REPO, "tools/guest/image.sh"), [], { env: { ...process.env, GROUNDWORK_CACHE: cache }, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tools/guest/image.sh failed: ${(r.stderr ?? "").trim().split("\n").slice(-5).join("\n")}`);
    return (Date.now() - t) / 1000;
}

function parseArgs(argv: string[]): { runs: number; skipImage: boolean } {
    let runs = 3;
    let skipImage = false;
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--runs" && /^[1-9]\d*$/.test(argv[i + 1] ?? "")) runs = Number(argv[++i]);
        else if (argv[i] === "--skip-image") skipImage = true;
        else throw new Error(`usage: bench/engine-boot.ts [--runs N] [--skip-image]; got "${argv[i]}"`);
    }
    return { runs, skipImage };
}

async function main(): Promise<void> {
    const { runs, skipImage } = parseArgs(process.argv.slice(2));
    const t0 = Date.now();
    const log = (m: string) => console.error(`[engine-boot +${((Date.now() - t0) / 1000).toFixed(0)}s] ${m}`);
    if (!skipImage) {
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "gw-bench-cache-"));
        try {
            log("base image, first build into a fresh cache (minutes)");
            const first = timeImage(cache);
            const cached = timeImage(cache);
            console.log(`base image build: first ${first.toFixed(1)} s, cached ${cached.toFixed(2)} s`);
        } finally {
            fs.rmSync(cache, { recursive: true, force: true });
        }
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "gw-bench-engine-"));
    const mirror = await engineMirror();
    const rows: { accel: string; ssh: number; cloudInit: number; final: number; engine: number }[] = [];
    try {
        const ca = throwAwayCa(work);
        const key = throwAwaySshKey(work);
        for (let i = 1; i <= runs; i++) {
            log(`boot ${i}/${runs}`);
            const b = await bootEngineGuest(`gw-bench-engine-${i}`, mirror, ca, key);
            try {
                if (b.cloudInit.status !== "done") throw new Error(`boot ${i}: cloud-init ${b.cloudInit.status}`);
                const active = (await b.guest.ssh("systemctl is-active containerd")).stdout.trim();
                if (active !== "active") throw new Error(`boot ${i}: containerd is ${active}`);
                rows.push({ accel: b.guest.accel, ssh: b.guest.timings.sshUpSec ?? NaN, cloudInit: b.cloudInit.seconds, final: b.guestClock.cloudFinalSec, engine: b.guestClock.engineActiveSec });
                const r = rows[rows.length - 1];
                console.log(`boot ${i} (${r.accel}): SSH ${r.ssh} s, cloud-init done ${r.cloudInit} s after qemu start; guest clock: containerd active ${r.engine} s, cloud-final ${r.final} s`);
            } finally {
                await b.guest.stop();
            }
        }
    } finally {
        await mirror.stop();
        fs.rmSync(work, { recursive: true, force: true });
    }
    const m = (k: keyof (typeof rows)[number]) => median(rows.map((r) => r[k] as number)).toFixed(1);
    console.log(`median of ${rows.length} (${rows[0].accel}): boot → cloud-init done ${m("cloudInit")} s (qemu start); boot → containerd active ${m("engine")} s, → cloud-final ${m("final")} s (guest clock)`);
}

main().catch((e) => {
    console.error(`engine-boot: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
});

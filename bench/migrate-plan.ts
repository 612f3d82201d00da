// Times `groundwork migrate plan`'s pure work (read the CSV, classify, right-size, pack onto every
// worker size, render plan.md/json/svg and the fragment) for synthetic inventories:
//   npx ts-node -T bench/migrate-plan.ts            → 1,000 and 10,000 VMs, each in its own process
// The 200-VM example plan in bench/migrate-example/ is made by
//   groundwork migrate plan --inventory test/fixtures/migrate/inventory-200.csv --overrides test/fixtures/migrate/overrides.yaml --out bench/migrate-example
//   … bench/migrate-plan.ts --size N                → one size (what each child runs)
// Prints wall time per step and the process's peak RSS.
import { execFileSync } from "child_process";
import {
    DEFAULT_SETTINGS, dropDuplicates, planMigration, readCsvInventory, renderFragment, renderJson, renderMarkdown, renderSvg,
} from "../components/workloads/planner";
import { inventoryCsv } from "./migrate-inventory";

function one(size: number): void {
    const text = inventoryCsv(size, 7);
    const heapBefore = process.memoryUsage().heapUsed;
    const t = [process.hrtime.bigint()];
    const inv = dropDuplicates(readCsvInventory(`synthetic-${size}.csv`, text));
    t.push(process.hrtime.bigint());
    // Sizes that all hold the inventory's largest VMs (64 GiB), so every size is packed.
    const workerSizes = [[16, 80], [24, 96], [32, 128], [64, 256]].map(([c, g]) => ({ name: `w${c}x${g}`, cpus: c, memoryMiB: g * 1024 }));
    const plan = planMigration(inv, { ...DEFAULT_SETTINGS, workerSizes });
    t.push(process.hrtime.bigint());
    const bytes = [renderMarkdown(plan), renderJson(plan), renderSvg(plan), renderFragment(plan, { group: "migrated", backend: "openstack", pool: "workers", profile: "prod", diskGiB: 100 })].reduce((a, s) => a + s.length, 0);
    t.push(process.hrtime.bigint());
    const ms = (i: number) => Number(t[i + 1] - t[i]) / 1e6;
    const o = plan.options[plan.chosen!];
    const rss = process.resourceUsage().maxRSS / 1024;
    console.log(
        `${String(size).padStart(6)} VMs: read ${ms(0).toFixed(0)} ms, plan ${ms(1).toFixed(0)} ms (${plan.options.filter((x) => x.eligible).length} sizes packed), render ${ms(2).toFixed(0)} ms (${(bytes / 1024).toFixed(0)} KiB); ` +
            `total ${(Number(t[3] - t[0]) / 1e6).toFixed(0)} ms; ${plan.after!.machines} × ${o.size.name} (lower bound ${o.lowerBound} + ${plan.after!.spares} spare); ` +
            `heap +${((process.memoryUsage().heapUsed - heapBefore) / 2 ** 20).toFixed(0)} MiB, peak RSS ${rss.toFixed(0)} MiB`,
    );
}

const i = process.argv.indexOf("--size");
if (i > 0) one(Number(process.argv[i + 1]));
else {
    for (const size of [1000, 10000]) {
        process.stdout.write(execFileSync(process.execPath, [...process.execArgv, __filename, "--size", String(size)], { encoding: "utf8", env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1" } }));
    }
}

import * as assert from "assert";
import { classify, DEFAULT_SETTINGS, nodeReserve, parseOverrides, rightSize, Vm, workloadNames } from "../../components/workloads/planner";

const vm = (over: Partial<Vm>): Vm => ({ name: "x", vcpus: 4, memoryMiB: 8192, ports: [], metadata: {}, poweredOn: true, where: "t:2", ...over });

describe("workloads/planner: classify, right-size, reserve", () => {
    const cases: [string, Partial<Vm>, string, string][] = [
        ["port 5432 beats the name", { name: "web-01", ports: [80, 5432] }, "user-db", "port 5432"],
        ["metadata role beats ports", { name: "x", ports: [5432], metadata: { role: "queue" } }, "queue", "metadata role=queue"],
        ["API port beats 80", { name: "x", ports: [80, 8080] }, "web-api", "port 8080"],
        ["ClickHouse port is analytics", { name: "x", ports: [8123] }, "analytics-db", "port 8123"],
        ["image nginx", { name: "x", image: "nginx-1.24" }, "static-site", 'image "nginx-1.24"'],
        ["image rabbitmq", { name: "x", image: "rabbitmq-3.12" }, "queue", 'image "rabbitmq-3.12"'],
        ["name pg", { name: "app-pg-01" }, "user-db", 'name "app-pg-01"'],
        ["name static before web", { name: "static-web-02" }, "static-site", 'name "static-web-02"'],
        ["name dwh", { name: "dwh_03" }, "analytics-db", 'name "dwh_03"'],
        ["'upgrade' does not contain the word pg", { name: "upgrade-tool" }, "unclassified", "no rule matched (name, image, OS, ports, metadata); add it to --overrides"],
        ["annotation", { name: "srv-17", metadata: { annotation: "customer database" } }, "user-db", 'annotation "customer database"'],
    ];
    for (const [title, over, role, reason] of cases) {
        it(`classifies: ${title}`, () => assert.deepStrictEqual(classify(vm(over)), { role, reason }));
    }

    it("an override wins over every rule; the overrides file reports bad lines", () => {
        assert.deepStrictEqual(classify(vm({ name: "pg-01", ports: [5432] }), new Map([["pg-01", "analytics-db"]])), { role: "analytics-db", reason: "override" });
        const p = parseOverrides("o.yaml", "# c\npg-01: analytics-db\nweb-1: datbase\n\"q-1\": queue # inline\njunk line\npg-01: queue\n");
        assert.deepStrictEqual([...p.overrides], [["pg-01", "analytics-db"], ["q-1", "queue"]]);
        assert.deepStrictEqual(p.problems, [
            'o.yaml:3: web-1: role "datbase" is not one of analytics-db, user-db, queue, web-api, static-site, unclassified',
            'o.yaml:5: "junk line" is not "name: role"',
            "o.yaml:6: pg-01 is overridden twice",
        ]);
    });

    it("right-sizes from a percentile + headroom and takes the guest OS off (hand-checked)", () => {
        // 4000 m × 25 % × 1.3 = 1300 m; 8192 MiB × 50 % × 1.3 = 5324.8 − 256 = 5068.8 → 5069 MiB.
        assert.deepStrictEqual(rightSize(vm({ cpuPercent: 25, memPercent: 50, percentile: 95 }), DEFAULT_SETTINGS), {
            cpuMillis: 1300, memoryMiB: 5069, cpuBasis: "p95 25 % + 30 % headroom", memoryBasis: "p95 50 % + 30 % headroom − 256 MiB guest OS",
        });
        // Without utilisation: configured size minus the guest OS.
        assert.deepStrictEqual(rightSize(vm({}), DEFAULT_SETTINGS), { cpuMillis: 4000, memoryMiB: 7936, cpuBasis: "configured vCPUs", memoryBasis: "configured memory − 256 MiB guest OS" });
        // A single sample is not used unless asked; never above the configured size.
        const sample = vm({ cpuPercent: 90, memPercent: 95, percentile: "last" });
        assert.strictEqual(rightSize(sample, DEFAULT_SETTINGS).cpuBasis, "configured vCPUs");
        assert.deepStrictEqual([rightSize(sample, { ...DEFAULT_SETTINGS, rightSizeFromSamples: true }).cpuMillis, rightSize(sample, { ...DEFAULT_SETTINGS, rightSizeFromSamples: true }).memoryMiB], [4000, 8192]); // 8192 × 95 % × 1.3 − 256 = 9861, capped at the configured 8192
        // Minimum requests.
        assert.deepStrictEqual([rightSize(vm({ vcpus: 1, memoryMiB: 256, cpuPercent: 0, memPercent: 0, percentile: 95 }), DEFAULT_SETTINGS).cpuMillis, rightSize(vm({ vcpus: 1, memoryMiB: 256 }), DEFAULT_SETTINGS).memoryMiB], [50, 64]);
    });

    it("node reserve follows GKE's tiers (hand-checked)", () => {
        // 8 cores: 60 + 10 + 2×5 + 4×2.5 = 90 m. 32 GiB: 1024 + 819.2 + 819.2 + 16384×0.06 + 100 = 3745.44 → 3746 MiB.
        assert.deepStrictEqual(nodeReserve({ cpus: 8, memoryMiB: 32768 }), { cpuMillis: 90, memoryMiB: 3746 });
        // 1 core, 2 GiB: 60 m; 512 + 100 = 612 MiB.
        assert.deepStrictEqual(nodeReserve({ cpus: 1, memoryMiB: 2048 }), { cpuMillis: 60, memoryMiB: 612 });
    });

    it("workload names are unique DNS labels", () => {
        assert.deepStrictEqual(workloadNames(["Web_01.corp", "web-01-corp", "1st", "--"]), ["web-01-corp", "web-01-corp-2", "vm-1st", "vm"]);
    });
});

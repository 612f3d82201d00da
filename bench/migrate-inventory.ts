// A deterministic synthetic VM inventory in the planner's plain CSV format (seeded PRNG), for the
// bench and the 200-VM example:
//   npx ts-node -T bench/migrate-inventory.ts 200 > test/fixtures/migrate/inventory-200.csv

/** mulberry32: a small seeded PRNG, so the same size gives the same file. */
export function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

interface Kind {
    prefix: string;
    weight: number;
    sizes: [number, number][]; // vCPUs, GiB
    image: string;
    ports: string;
    disk: number;
}

// A typical estate: many small web/API VMs, fewer large databases.
const KINDS: Kind[] = [
    { prefix: "www", weight: 14, sizes: [[1, 2], [2, 4]], image: "nginx-1.24", ports: "80;443", disk: 20 },
    { prefix: "api", weight: 34, sizes: [[2, 4], [2, 8], [4, 8], [4, 16]], image: "openjdk-17", ports: "8080", disk: 40 },
    { prefix: "pg", weight: 14, sizes: [[2, 8], [4, 16], [8, 32]], image: "postgres-15", ports: "5432", disk: 200 },
    { prefix: "mq", weight: 8, sizes: [[2, 4], [4, 8]], image: "rabbitmq-3.12", ports: "5672;15672", disk: 50 },
    { prefix: "olap", weight: 6, sizes: [[8, 32], [16, 64]], image: "clickhouse-24", ports: "8123;9000", disk: 500 },
    { prefix: "misc", weight: 4, sizes: [[1, 2], [2, 4]], image: "debian-12", ports: "", disk: 20 },
];

export function inventoryCsv(count: number, seed = 42): string {
    const rnd = prng(seed);
    const total = KINDS.reduce((a, k) => a + k.weight, 0);
    const lines = ["name,vcpus,memory,disk,cpu_p95,mem_p95,image,os,ports,metadata,power,host"];
    const seen = new Map<string, number>();
    for (let i = 0; i < count; i++) {
        let r = rnd() * total;
        const kind = KINDS.find((k) => (r -= k.weight) < 0) ?? KINDS[0];
        const n = (seen.get(kind.prefix) ?? 0) + 1;
        seen.set(kind.prefix, n);
        const [cpus, gib] = kind.sizes[Math.floor(rnd() * kind.sizes.length)];
        const measured = rnd() < 0.75; // a quarter of the estate has no monitoring data
        const cpu = measured ? (3 + rnd() * (kind.prefix === "olap" ? 70 : 45)).toFixed(1) : "";
        const mem = measured ? (25 + rnd() * 60).toFixed(1) : "";
        const env = rnd() < 0.7 ? "prod" : "qa";
        const power = rnd() < 0.05 ? "off" : "on";
        lines.push([`${kind.prefix}-${String(n).padStart(3, "0")}`, cpus, `${gib} GiB`, `${kind.disk} GiB`, cpu, mem, kind.image, "Debian GNU/Linux 12", kind.ports, `env=${env}`, power, `esx-${String(1 + Math.floor(rnd() * 12)).padStart(2, "0")}`].join(","));
    }
    return lines.join("\n") + "\n";
}

if (require.main === module) {
    const n = Number(process.argv[2] ?? "200");
    process.stdout.write(inventoryCsv(n));
}

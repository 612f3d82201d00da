import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { dropDuplicates, issueLine, parseCsv, parseMetadata, parsePercent, parsePorts, parseSizeMiB, readCsvInventory, readGovcJson, Vm } from "../../components/workloads/planner";

const FIX = path.resolve(__dirname, "../fixtures/migrate");
const read = (f: string) => fs.readFileSync(path.join(FIX, f), "utf8");
const byName = (vms: Vm[]) => new Map(vms.map((v) => [v.name, v]));

describe("workloads/planner: inventory parsers", () => {
    it("sizes: units, thousands separators and refusals (hand-checked)", () => {
        const mib = (t: string, bare: "MiB" | "GiB" = "MiB") => { const p = parseSizeMiB("memory", t, bare); return p.ok ? p.value : p.message; };
        assert.strictEqual(mib("4096"), 4096);
        assert.strictEqual(mib("4 GiB"), 4096);
        assert.strictEqual(mib("4GB"), 4096);
        assert.strictEqual(mib("0.5 TiB"), 524288);
        assert.strictEqual(mib("1,024 MiB"), 1024);
        assert.strictEqual(mib("100", "GiB"), 102400);
        assert.strictEqual(mib("4 GB?"), 'memory "4 GB?": not a size; write a number with an optional unit MiB, GiB or TiB (MB, GB, TB read as binary), e.g. "8 GiB"');
        assert.strictEqual(mib("4 floppies"), 'memory "4 floppies": unknown unit "floppies"; allowed: MiB, GiB or TiB (MB, GB, TB read as binary)');
        assert.strictEqual(mib("0 GiB"), 'memory "0 GiB": must be more than 0');
        assert.deepStrictEqual(parsePercent("cpu_p95", "35%"), { ok: true, value: 35 });
        assert.deepStrictEqual(parsePorts("ports", "443;80 80/tcp"), { ok: true, value: [80, 443] });
        assert.deepStrictEqual(parsePorts("ports", "80;http"), { ok: false, message: 'ports "80;http": "http" is not a port 1–65535; separate ports with ";"' });
        assert.deepStrictEqual(parseMetadata("metadata", "a=1; b = x=y ;c="), { ok: true, value: { a: "1", b: "x=y", c: "" } });
    });

    it("CSV: quotes, doubled quotes, line breaks in fields, ';' exports, and an unclosed quote", () => {
        const t = parseCsv('a,b,c\r\n1,"x, y","say ""hi"""\n2,"two\nlines",3\n\n');
        assert.deepStrictEqual(t.header, ["a", "b", "c"]);
        assert.deepStrictEqual(t.records, [{ line: 2, cells: ["1", "x, y", 'say "hi"'] }, { line: 3, cells: ["2", "two\nlines", "3"] }]);
        assert.deepStrictEqual(parseCsv("VM;CPUs;Memory\nx;2;4.096\n").records[0].cells, ["x", "2", "4.096"]);
        assert.deepStrictEqual(parseCsv('a,b\n1,2\n3,"open\n').error, { line: 3, message: "a quoted field is never closed" });
    });

    it("plain CSV: good rows are read, every bad row gets one line naming file, line and cell", () => {
        const inv = dropDuplicates(readCsvInventory("bad.csv", read("bad.csv")));
        assert.deepStrictEqual(inv.vms.map((v) => v.name), ["web-01", "api-01", "pg-01", "notes-01"]);
        assert.deepStrictEqual(inv.issues.map(issueLine), [
            'bad.csv:5: broken-01: memory "4 GB?": not a size; write a number with an optional unit MiB, GiB or TiB (MB, GB, TB read as binary), e.g. "8 GiB"; left out',
            "bad.csv:6: nosize-01: no size (vCPUs and memory empty); left out",
            'bad.csv:7: duplicate name "api-01" (first at bad.csv:3); left out, rename one of them',
            'bad.csv:8: has 10 fields, the header has 9; left out (an unquoted "," inside a field?)',
            'bad.csv:9: mq-01: vcpus "zwei": must be a whole number ≥ 1; left out',
            'bad.csv:11: cpu-01: cpu_p95 "140": must be a percentage 0–100, e.g. "35" or "35%"; left out',
        ]);
        assert.ok(inv.issues.every((i) => i.effect === "left-out"));
        const vms = byName(inv.vms);
        assert.deepStrictEqual(vms.get("web-01"), { name: "web-01", vcpus: 2, memoryMiB: 4096, diskGiB: 20, cpuPercent: 35, memPercent: 50, percentile: 95, image: "nginx", os: undefined, ports: [80, 443], metadata: { env: "prod" }, host: undefined, poweredOn: true, where: "bad.csv:2" });
        assert.strictEqual(vms.get("api-01")!.memoryMiB, 8192);
        assert.strictEqual(vms.get("api-01")!.percentile, undefined);
        assert.strictEqual(vms.get("pg-01")!.memoryMiB, 32768);
        assert.strictEqual(vms.get("pg-01")!.diskGiB, 200);
        assert.deepStrictEqual(vms.get("pg-01")!.metadata, { team: "core", tier: "db" });
        assert.strictEqual(vms.get("notes-01")!.memoryMiB, 1024);
        assert.deepStrictEqual(vms.get("notes-01")!.metadata, { note: 'a "quoted" word' });
    });

    it("plain CSV: a missing required column is fatal, with what the header needs", () => {
        const inv = readCsvInventory("x.csv", "name,cpus,memory\nweb,2,4096\n");
        assert.deepStrictEqual(inv.issues.map((i) => [i.effect, issueLine(i)]), [
            ["fatal", "x.csv:1: missing column vcpus; the header needs name, vcpus, memory (optional: disk, cpu_p95, mem_p95, image, os, ports, metadata, power, host)"],
        ]);
    });

    it("RVTools vInfo: real column names, MiB with thousands separators, templates skipped, power state", () => {
        const inv = readCsvInventory("vInfo.csv", read("rvtools-vinfo.csv"));
        assert.strictEqual(inv.source, "rvtools vInfo.csv");
        assert.deepStrictEqual(inv.issues.map(issueLine), ["vInfo.csv:3: tpl-debian: a template, not a running workload; not planned"]);
        const vms = byName(inv.vms);
        assert.deepStrictEqual([...vms.keys()], ["pg-prod-01", "rabbit-01", "app-frontend"]);
        const pg = vms.get("pg-prod-01")!;
        assert.deepStrictEqual([pg.vcpus, pg.memoryMiB, pg.diskGiB, pg.diskUsedGiB, pg.host, pg.poweredOn], [8, 32768, 200, 50, "esx-01.corp", true]);
        assert.strictEqual(pg.os, "Debian GNU/Linux 12 (64-bit)");
        assert.deepStrictEqual(pg.metadata, { annotation: "customer database" });
        assert.strictEqual(vms.get("rabbit-01")!.poweredOn, false);
        assert.strictEqual(vms.get("app-frontend")!.os, "Microsoft Windows Server 2019 (64-bit)");
    });

    it("govc JSON: the older capitalised shape (VirtualMachines[].Config.Hardware.NumCPU) and quick stats as one sample", () => {
        const inv = readGovcJson("govc.json", read("govc-legacy.json"));
        assert.deepStrictEqual(inv.issues.map(issueLine), ["govc.json: virtualMachines[1] (empty-01): empty-01: no size (config.hardware numCPU 0, memoryMB 0); left out"]);
        const k = inv.vms[0];
        // 2000 of 8000 MHz → 25 %; 4096 of 16384 MiB → 25 %; disk 52428800 KiB → 50 GiB.
        assert.deepStrictEqual([k.name, k.vcpus, k.memoryMiB, k.diskGiB, k.cpuPercent, k.memPercent, k.percentile, k.host, k.os], ["kafka-01", 4, 16384, 50, 25, 25, "last", "host-12", "Debian GNU/Linux 12 (64-bit)"]);
        assert.strictEqual(readGovcJson("x.json", "{\"foo\": 1}").issues[0].message, "has no virtualMachines list; expected the output of `govc vm.info -json` or `govc ls -l -json`");
        assert.match(readGovcJson("x.json", "{not json").issues[0].message, /^is not JSON: /);
    });
});

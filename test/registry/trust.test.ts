import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import { parse as parseYaml } from "yaml";
import { stackFilePath } from "../../cli/stackfile";
import { renderStack } from "../../cli/commands/render";
import { engineConfig } from "../../components/engine/config";
import { MachineSpec } from "../../components/machines/machine";
import { parsePlatform, SecretName } from "../../components/platform/config";
import { registryConfig } from "../../components/registry/config";
import { StandaloneRegistry } from "../../components/registry/standalone";
import { settle, valueOf } from "../support/mocks";

const CORP_CA = "-----BEGIN CERTIFICATE-----\nMIIBcorporateRootCA\n-----END CERTIFICATE-----";

/** The CA's file name as the trust part promises it, computed with the sha256sum tool. */
function caFile(pem: string): string {
    const hex = execFileSync("sha256sum", { input: pem.trim() }).toString().split(" ")[0];
    return `/usr/local/share/ca-certificates/groundwork/groundwork-${hex.slice(0, 12)}.crt`;
}

describe("registry: the standalone registry machine trusts the stack's private CAs", () => {
    it("its bootstrap puts every engine.caCertificates entry and its own CA in the OS trust store before apt runs", () => {
        const raw = parseYaml(fs.readFileSync(stackFilePath("customer-dc"), "utf8")).config["groundwork:platform"];
        raw.engine.caCertificates = [CORP_CA];
        const { spec, problems } = parsePlatform(raw, new Set<SecretName>(["vspherePassword", "sshPrivateKey"]));
        assert.deepStrictEqual(problems, []);
        const rendered = renderStack(spec!);
        const registry = rendered.machines.find((m) => m.machine.role === "registry")!;
        assert.deepStrictEqual(registry.parts, ["identity", "engine/trust", "engine/packages", "registry"]);
        const lines = registry.script.split("\n");
        const corp = lines.indexOf(`gw_put '${caFile(CORP_CA)}' 0644 <<'GROUNDWORK_EOF'`);
        assert.ok(corp > 0, registry.script);
        assert.deepStrictEqual(lines.slice(corp + 1, corp + 4), CORP_CA.split("\n"));
        // The registry's own CA (generated at deploy time) is trusted too, exactly as on every node.
        assert.ok(lines.includes(`gw_put '${caFile("@@GROUNDWORK:registry-ca@@")}' 0644 <<'GROUNDWORK_EOF'`), registry.script);
        const update = lines.indexOf("  update-ca-certificates --fresh >/dev/null");
        assert.ok(update > 0 && update < lines.findIndex((l) => l.startsWith("gw_apt() {")), "the trust store is updated before apt runs");
        // A worker of the same stack trusts the very same CA files.
        const worker = rendered.machines.find((m) => m.machine.role === "worker")!;
        assert.ok(worker.script.includes(`gw_put '${caFile(CORP_CA)}' 0644`));
    });
});

describe("registry: the registry machine's apt honours the platform's no_proxy like every node's", () => {
    const DIRECT = ['Acquire::http::Proxy::172.16.8.5 "DIRECT";', 'Acquire::https::Proxy::172.16.8.5 "DIRECT";'];

    it("render: the mirror in the node subnet goes direct on the registry machine too", () => {
        const raw = parseYaml(fs.readFileSync(stackFilePath("customer-dc"), "utf8")).config["groundwork:platform"];
        raw.engine.proxy = { http: "http://proxy.cdc.example:3128" };
        const { spec } = parsePlatform(raw, new Set<SecretName>(["vspherePassword", "sshPrivateKey"]));
        const rendered = renderStack(spec!);
        for (const role of ["registry", "worker"]) {
            const lines = rendered.machines.find((m) => m.machine.role === role)!.script.split("\n");
            for (const l of DIRECT) assert.ok(lines.includes(l), `${role}: ${l}`);
        }
    });

    it("component: StandaloneRegistry passes its noProxy to the apt step", async () => {
        const machine: MachineSpec = { name: "cdc-registry-1", role: "registry", group: "registry", ordinal: 1, backend: "vsphere", address: "172.16.8.24", labels: {}, taints: [] };
        const engine = engineConfig.parse({ proxy: { http: "http://proxy.cdc.example:3128" }, packageSource: { kind: "mirror", url: "http://172.16.8.5/debian", trusted: true } });
        const r = new StandaloneRegistry("cdc-registry", { config: registryConfig.parse({ mode: "standalone" }), machine, engine, noProxy: ["172.16.8.0/24"] });
        const parts = await valueOf(r.parts);
        await settle();
        const conf = parts.flatMap((p) => p.files).find((f) => f.path === "/etc/apt/apt.conf.d/90groundwork-proxy")!.content;
        for (const l of DIRECT) assert.ok(conf.split("\n").includes(l), conf);
    });
});

import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import { parse as parseYaml } from "yaml";
import { stackFilePath } from "../../cli/stackfile";
import { renderStack } from "../../cli/commands/render";
import { parsePlatform, SecretName } from "../../components/platform/config";

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

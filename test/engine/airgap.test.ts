import * as assert from "assert";
import * as fs from "fs";
import { parse as parseYaml } from "yaml";
import { stackFilePath } from "../../cli/stackfile";
import { engineParts } from "../../components/engine/engines";
import { renderHostsToml } from "../../components/engine/render-containerd";
import { parsePlatform, PlatformSpec, SECRET_KEYS, SecretName } from "../../components/platform/config";
import { nodeEngine } from "../../components/platform/wiring";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBregistryCA\n-----END CERTIFICATE-----\n";

function stack(name: string, change: (raw: any) => void = () => undefined): PlatformSpec {
    const raw = parseYaml(fs.readFileSync(stackFilePath(name), "utf8")).config["groundwork:platform"];
    change(raw);
    // Every secret key set, as `pulumi config set --secret` would: this test is about registries, not credentials.
    const { spec, problems } = parsePlatform(raw, new Set<SecretName>(Object.keys(SECRET_KEYS) as SecretName[]));
    assert.deepStrictEqual(problems, []);
    return spec!;
}

function hostsToml(spec: PlatformSpec, host: string): string {
    const { engine, engineOptions } = nodeEngine(spec, { caPem: CA });
    const f = engineParts(engine, engineOptions).flatMap((p) => p.files).find((x) => x.path === `/etc/containerd/certs.d/${host}/hosts.toml`);
    assert.ok(f, `no hosts.toml for ${host}`);
    return f.content;
}

describe("engine: an air-gapped node never falls back to the upstream registry", () => {
    it("the last mirror endpoint is the server; the others are tried before it", () => {
        const toml = renderHostsToml({ host: "docker.io", endpoints: ["https://registry.cdc.example:5000", "https://harbor.example/v2/dockerhub"], insecure: false }, ["/usr/local/share/ca-certificates/groundwork-1.crt"], true);
        assert.strictEqual(
            toml,
            [
                "# groundwork: rendered; do not edit on the machine",
                'server = "https://harbor.example/v2/dockerhub"',
                'capabilities = ["pull", "resolve"]',
                "override_path = true",
                'ca = "/usr/local/share/ca-certificates/groundwork-1.crt"',
                "",
                '[host."https://registry.cdc.example:5000"]',
                '  capabilities = ["pull", "resolve"]',
                '  ca = "/usr/local/share/ca-certificates/groundwork-1.crt"',
                "",
            ].join("\n"),
        );
    });

    it("standalone registry (customer-dc): every mirrored host's server is the registry, never the upstream", () => {
        const spec = stack("customer-dc");
        for (const host of ["docker.io", "ghcr.io", "quay.io", "registry.k8s.io"]) {
            const toml = hostsToml(spec, host);
            assert.deepStrictEqual(toml.split("\n").filter((l) => l.startsWith("server = ")), ['server = "https://registry.cdc.customer.example:5000"'], toml);
            assert.doesNotMatch(toml, /\[host\./);
        }
    });

    it("Harbor (prod, not air-gapped): docker.io goes to the proxy-cache project first, Docker Hub last", () => {
        const toml = hostsToml(stack("prod"), "docker.io");
        assert.deepStrictEqual(toml.split("\n").filter((l) => /^server = |^\[host\./.test(l)), ['server = "https://registry-1.docker.io"', '[host."https://harbor.prod.example/v2/dockerhub"]'], toml);
    });

    it("not air-gapped, the upstream stays the last resort", () => {
        const toml = hostsToml(stack("customer-dc", (raw) => (raw.registry.airGapped = false)), "docker.io");
        assert.match(toml, /^server = "https:\/\/registry-1\.docker\.io"$/m);
        assert.match(toml, /^\[host\."https:\/\/registry\.cdc\.customer\.example:5000"\]$/m);
    });
});

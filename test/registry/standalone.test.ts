import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { placeholdersIn, renderBootstrapScript } from "../../components/engine/bootstrap";
import { engineConfig } from "../../components/engine/config";
import {
    renderRegistryConfig,
    STANDALONE_PATHS,
    STANDALONE_REGISTRY_PACKAGES,
    standaloneRegistryPart,
    standaloneRegistryParts,
    STANDALONE_PLACEHOLDERS,
    StandaloneRegistryInput,
    standaloneRenderParts,
    validateStandaloneInput,
} from "../../components/registry/render-standalone";
import { registryConfig } from "../../components/registry/config";

const CERT = "-----BEGIN CERTIFICATE-----\nMIIBserver\n-----END CERTIFICATE-----\n";
const CA = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQ\n-----END EC PRIVATE KEY-----\n";
const HASH = "$2a$10$" + "a".repeat(53);
const input: StandaloneRegistryInput = { host: "registry.example", certPem: CERT, keyPem: KEY, caPem: CA, htpasswd: `groundwork:${HASH}` };

describe("registry: standalone renderer", () => {
    it("config.yml turns on TLS, htpasswd auth and the configured port", () => {
        const doc = parse(renderRegistryConfig(5443));
        assert.strictEqual(doc.http.addr, ":5443");
        assert.deepStrictEqual(doc.http.tls, { certificate: STANDALONE_PATHS.cert, key: STANDALONE_PATHS.key });
        assert.deepStrictEqual(doc.auth, { htpasswd: { realm: "groundwork-registry", path: STANDALONE_PATHS.htpasswd } });
        assert.strictEqual(doc.storage.delete.enabled, false);
        assert.strictEqual(parse(renderRegistryConfig()).http.addr, ":5000");
    });

    it("writes the key and htpasswd 0640 and never a plaintext password", () => {
        const part = standaloneRegistryPart(input);
        const byPath = Object.fromEntries(part.files.map((f) => [f.path, f]));
        assert.strictEqual(byPath[STANDALONE_PATHS.key].mode, "0640");
        assert.strictEqual(byPath[STANDALONE_PATHS.key].content, KEY);
        assert.strictEqual(byPath[STANDALONE_PATHS.htpasswd].content, `groundwork:${HASH}\n`);
        assert.strictEqual(byPath[STANDALONE_PATHS.htpasswd].mode, "0640");
        assert.match(byPath[STANDALONE_PATHS.dropIn].content, /^ExecStart=\/usr\/bin\/docker-registry serve \/etc\/groundwork\/registry\/config\.yml$/m);
        assert.match(part.script, /--resolve 'registry\.example:5000:127\.0\.0\.1' 'https:\/\/registry\.example:5000\/v2\/'/);
    });

    it("is deterministic and changes only with its input", () => {
        assert.deepStrictEqual(standaloneRegistryPart(input), standaloneRegistryPart({ ...input }));
        const other = standaloneRegistryPart({ ...input, port: 5001 });
        const changed = other.files.filter((f, i) => f.content !== standaloneRegistryPart(input).files[i].content).map((f) => f.path);
        assert.deepStrictEqual(changed, [STANDALONE_PATHS.config]);
    });

    it("reports every bad input at once", () => {
        const problems = validateStandaloneInput({ host: "Bad_Host", port: 70000, certPem: "x", keyPem: "y", caPem: CA, htpasswd: "groundwork:plaintext" });
        assert.deepStrictEqual(problems, [
            "port must be 1-65535, got 70000",
            'host must be a DNS name or address without port, got "Bad_Host"',
            "certPem must be a PEM certificate",
            "keyPem must be a PEM private key",
            'htpasswd line for "groundwork" must be user:<bcrypt hash>',
        ]);
        assert.throws(() => standaloneRegistryPart({ ...input, htpasswd: "" }), /standalone registry: htpasswd must hold at least one user/);
    });

    it("accepts deploy-time placeholders for the TLS material and the hash", () => {
        const p = standaloneRegistryPart({ ...input, certPem: "@@GROUNDWORK:registry-cert@@", keyPem: "@@GROUNDWORK:registry-key@@", htpasswd: "groundwork:@@GROUNDWORK:registry-hash@@" });
        assert.ok(p.files.some((f) => f.content === "@@GROUNDWORK:registry-key@@"));
    });

    it("render parts carry placeholders on the registry machine only", () => {
        const reg = { name: "cdc-registry-1", role: "registry" as const, group: "registry", ordinal: 1, backend: "vsphere" as const, address: "172.16.8.24", labels: {}, taints: [] };
        const cfg = registryConfig.parse({ mode: "standalone" });
        const parts = standaloneRenderParts(cfg, reg, engineConfig.parse({}));
        const text = JSON.stringify(parts);
        assert.deepStrictEqual(placeholdersIn(text), Object.keys(STANDALONE_PLACEHOLDERS).sort());
        assert.match(parts.find((p) => p.name === "registry")!.script, /https:\/\/172\.16\.8\.24:5000\/v2\//);
        assert.deepStrictEqual(standaloneRenderParts(cfg, { ...reg, role: "worker" }, engineConfig.parse({})), []);
        assert.deepStrictEqual(standaloneRenderParts(registryConfig.parse({}), reg, engineConfig.parse({})), []);
    });

    it("installs the pinned docker-registry through the engine's package machinery", () => {
        const engine = engineConfig.parse({ packageSource: { kind: "mirror", url: "http://mirror.example/debian", trusted: true }, packages: { containerd: "9.9" } });
        const parts = standaloneRegistryParts(engine, input);
        assert.deepStrictEqual(parts.map((p) => p.name), ["engine/trust", "engine/packages", "registry"]);
        assert.match(parts[1].script, new RegExp(`'docker-registry=${STANDALONE_REGISTRY_PACKAGES["docker-registry"].replace(/[+.]/g, "\\$&")}'`));
        assert.doesNotMatch(parts[1].script, /containerd/);
        assert.match(parts[1].files[0].content, /^deb \[trusted=yes\] http:\/\/mirror\.example\/debian\/ bookworm main$/m);
    });

    it("renders a bootstrap script shellcheck accepts", () => {
        const script = renderBootstrapScript({ hostname: "reg-1", sshUser: "ops", sshAuthorizedKeys: [] }, standaloneRegistryParts(engineConfig.parse({}), input));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-reg-sc-"));
        try {
            fs.writeFileSync(path.join(dir, "bootstrap.sh"), script);
            execFileSync("shellcheck", ["--severity=style", path.join(dir, "bootstrap.sh")], { stdio: "pipe" });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { engineConfig } from "../../components/engine/config";
import { MachineSpec } from "../../components/machines/machine";
import { registryConfig } from "../../components/registry/config";
import { Harbor } from "../../components/registry/harbor";
import { HARBOR_SECRETS, renderProxyCacheScript } from "../../components/registry/render-harbor";
import { STANDALONE_PATHS } from "../../components/registry/render-standalone";
import { StandaloneRegistry } from "../../components/registry/standalone";
import { recorder, settle, valueOf } from "../support/mocks";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const SECRET = "kubernetes:core/v1:Secret";
const ADMIN_PASSWORD = "x".repeat(24); // what the mock's RandomPassword of length 24 returns

const harborConfig = registryConfig.parse({
    mode: "harbor",
    hostname: "harbor.prod.example",
    airGapped: true,
    proxyCache: [
        { name: "quay", upstream: "https://quay.io" },
        { name: "dockerhub", upstream: "https://registry-1.docker.io" },
    ],
    harbor: { storageClass: "cinder-ssd", storageGiB: 200 },
});

function harbor(config = harborConfig, extra: Partial<ConstructorParameters<typeof Harbor>[1]> = {}): Harbor {
    const provider = new k8s.Provider("cluster", { kubeconfig: "apiVersion: v1\nkind: Config\n" });
    return new Harbor("reg", { config, provider, chartRepository: "https://charts.prod.example", ...extra });
}

function secretNamed(name: string) {
    const s = recorder.ofType(SECRET).find((r) => r.inputs.metadata?.name === name);
    assert.ok(s, `no Secret ${name}; secrets: ${recorder.ofType(SECRET).map((r) => r.inputs.metadata?.name).join(", ")}`);
    return s!;
}

describe("registry: Harbor component (mocks)", () => {
    it("pins the chart, takes the repository from args, and keeps every password out of the values", async () => {
        const h = harbor();
        await valueOf(h.adminPassword);
        await settle();
        const [release] = recorder.ofType(RELEASE);
        assert.strictEqual(release.name, "reg-release");
        assert.deepStrictEqual([release.inputs.chart, release.inputs.version, release.inputs.repositoryOpts.repo], ["harbor", "1.16.2", "https://charts.prod.example"]);
        const values = release.inputs.values;
        assert.strictEqual(values.existingSecretAdminPassword, HARBOR_SECRETS.admin);
        assert.strictEqual(values.existingSecretSecretKey, HARBOR_SECRETS.secretKey);
        assert.strictEqual(values.harborAdminPassword, undefined);
        assert.strictEqual(values.secretKey, undefined);
        assert.ok(!JSON.stringify(values).includes(ADMIN_PASSWORD), "admin password in the release values");
        assert.ok(!JSON.stringify(values).includes("BEGIN"), "PEM material in the release values");
        assert.deepStrictEqual(release.secretInputs, [], "the values need no secret wrapping because they hold none");
        assert.deepStrictEqual(values.externalURL, "https://harbor.prod.example");
    });

    it("passes the generated admin password through a Kubernetes Secret, secret end to end", async () => {
        const h = harbor();
        assert.strictEqual(await pulumi.isSecret(h.adminPassword), true);
        assert.strictEqual(await valueOf(h.adminPassword), ADMIN_PASSWORD);
        await settle();
        const admin = secretNamed(HARBOR_SECRETS.admin);
        assert.strictEqual(admin.inputs.metadata.namespace, "harbor");
        assert.strictEqual(admin.inputs.stringData[HARBOR_SECRETS.adminKey], ADMIN_PASSWORD);
        assert.ok(admin.secretInputs.some((p) => p.startsWith("stringData")), `admin Secret inputs not secret: ${admin.secretInputs}`);
        const pw = recorder.ofType("random:index/randomPassword:RandomPassword").map((r) => [r.name, r.inputs.length]);
        assert.deepStrictEqual(pw, [["reg-admin-password", 24], ["reg-secret-key", 16]]);
    });

    it("wires the TLS Secret from our generated CA into expose.tls", async () => {
        const h = harbor();
        await valueOf(h.caPem);
        await settle();
        const values = recorder.ofType(RELEASE)[0].inputs.values;
        assert.deepStrictEqual(values.expose.tls, { enabled: true, certSource: "secret", secret: { secretName: HARBOR_SECRETS.tls } });
        const tlsSecret = secretNamed(HARBOR_SECRETS.tls);
        assert.strictEqual(tlsSecret.inputs.type, "kubernetes.io/tls");
        assert.match(tlsSecret.inputs.stringData["tls.crt"], /BEGIN CERTIFICATE/);
        assert.match(tlsSecret.inputs.stringData["tls.key"], /PRIVATE KEY/);
        assert.strictEqual(tlsSecret.inputs.stringData["ca.crt"], await valueOf(h.caPem));
        assert.ok(tlsSecret.secretInputs.some((p) => p.startsWith("stringData")));
        const csr = recorder.ofType("tls:index/certRequest:CertRequest")[0];
        assert.deepStrictEqual(csr.inputs.dnsNames, ["harbor.prod.example"]);
        assert.strictEqual(recorder.ofType("tls:index/selfSignedCert:SelfSignedCert")[0].inputs.isCaCertificate, true);
    });

    it("uses a certificate the user gives instead of generating one", async () => {
        const given = { certPem: "-----BEGIN CERTIFICATE-----\nuser\n-----END CERTIFICATE-----\n", keyPem: pulumi.secret("-----BEGIN PRIVATE KEY-----\nk\n-----END PRIVATE KEY-----\n"), caPem: "-----BEGIN CERTIFICATE-----\nuserca\n-----END CERTIFICATE-----\n" };
        const h = harbor(harborConfig, { tls: given });
        assert.strictEqual(await valueOf(h.caPem), given.caPem);
        await settle();
        assert.strictEqual(recorder.ofType("tls:index/selfSignedCert:SelfSignedCert").length, 0);
        assert.strictEqual(secretNamed(HARBOR_SECRETS.tls).inputs.stringData["tls.crt"], given.certPem);
    });

    it("persists through the configured StorageClass and turns Trivy off when air-gapped", async () => {
        harbor();
        await settle();
        const values = recorder.ofType(RELEASE)[0].inputs.values;
        assert.deepStrictEqual(values.persistence.persistentVolumeClaim.registry, { storageClass: "cinder-ssd", size: "200Gi", accessMode: "ReadWriteOnce" });
        assert.strictEqual(values.persistence.persistentVolumeClaim.database.storageClass, "cinder-ssd");
        assert.strictEqual(values.trivy.enabled, false);
    });

    it("creates the proxy-cache projects with a Job reading the admin password from the Secret", async () => {
        harbor();
        await settle();
        const [job] = recorder.ofType("kubernetes:batch/v1:Job");
        assert.strictEqual(job.name, "reg-proxy-cache");
        const container = job.inputs.spec.template.spec.containers[0];
        assert.deepStrictEqual(container.env, [{ name: "HARBOR_ADMIN_PASSWORD", valueFrom: { secretKeyRef: { name: HARBOR_SECRETS.admin, key: HARBOR_SECRETS.adminKey } } }]);
        assert.ok(!JSON.stringify(job.inputs).includes(ADMIN_PASSWORD));
        const [cm] = recorder.ofType("kubernetes:core/v1:ConfigMap");
        const script: string = cm.inputs.data["proxy-cache.sh"];
        assert.match(script, /post registries '\{"name":"dockerhub","type":"docker-hub","url":"https:\/\/registry-1\.docker\.io","insecure":false\}'/);
        assert.match(script, /post registries '\{"name":"quay","type":"quay","url":"https:\/\/quay\.io","insecure":false\}'/);
        assert.ok(script.indexOf('"dockerhub"') < script.indexOf('"quay"'), "projects in name order");
        assert.match(script, /project_name\\":\\"quay\\",\\"registry_id\\":\$id/);
    });

    it("makes no Job without proxy-cache projects, and demands a hostname", async () => {
        harbor(registryConfig.parse({ mode: "harbor", hostname: "h.example" }));
        await settle();
        assert.strictEqual(recorder.ofType("kubernetes:batch/v1:Job").length, 0);
        assert.throws(() => harbor(registryConfig.parse({ mode: "harbor" })), /platform\.registry\.hostname: is required when registry\.mode is harbor/);
    });

    it("the proxy-cache script is valid POSIX sh", () => {
        const { execFileSync } = require("child_process") as typeof import("child_process");
        execFileSync("shellcheck", ["--shell=sh", "-"], { input: renderProxyCacheScript(harborConfig, "http://harbor-core.harbor.svc/api/v2.0") });
    });
});

describe("registry: standalone component (mocks)", () => {
    const machine: MachineSpec = { name: "cdc-registry-1", role: "registry", group: "registry", ordinal: 1, backend: "vsphere", address: "172.16.8.24", labels: {}, taints: [] };
    const config = registryConfig.parse({ mode: "standalone", hostname: "registry.cdc.example", airGapped: true });

    it("signs a certificate for the name and address, and keeps the key and password secret", async () => {
        const r = new StandaloneRegistry("cdc-registry", { config, machine, engine: engineConfig.parse({}) });
        assert.strictEqual(await pulumi.isSecret(r.parts), true);
        assert.strictEqual(await pulumi.isSecret(r.password), true);
        const parts = await valueOf(r.parts);
        await settle();
        const csr = recorder.ofType("tls:index/certRequest:CertRequest")[0];
        assert.deepStrictEqual([csr.inputs.dnsNames, csr.inputs.ipAddresses], [["registry.cdc.example"], ["172.16.8.24"]]);
        const files = Object.fromEntries(parts.find((p) => p.name === "registry")!.files.map((f) => [f.path, f.content]));
        const hash = recorder.ofType("random:index/randomPassword:RandomPassword")[0];
        assert.strictEqual(hash.name, "cdc-registry-password");
        assert.match(files[STANDALONE_PATHS.htpasswd], /^groundwork:\$2a\$10\$[0-9a-f]{53}\n$/);
        assert.ok(!JSON.stringify(parts).includes(await valueOf(r.password)), "plaintext password in the bootstrap");
        assert.match(files[STANDALONE_PATHS.key], /PRIVATE KEY/);
        assert.deepStrictEqual([r.endpoint.host, r.endpoint.port, r.endpoint.imageRepository], ["registry.cdc.example", 5000, "registry.cdc.example:5000"]);
        assert.strictEqual(await valueOf(r.endpoint.caPem), files[STANDALONE_PATHS.ca]);
    });
});

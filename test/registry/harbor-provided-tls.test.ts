import * as assert from "assert";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { renderStack } from "../../cli/commands/render";
import { loadStackFile, stackFilePath } from "../../cli/stackfile";
import { runCli, writeStackFile } from "../support/cli";
import { recorder, valueOf } from "../support/mocks";
import { runProgram } from "../support/program";

type Config = Record<string, any>;
const load = (stack: string): Config => parse(fs.readFileSync(stackFilePath(stack), "utf8")).config;
const CORP_CA = "-----BEGIN CERTIFICATE-----\nMIICORPORATEHARBORCACORPORATEHARBORCA\n-----END CERTIFICATE-----\n";
const SECURE = { secure: "v1:placeholder" };

function providedProd(): Config {
    const c = load("prod");
    c["groundwork:platform"].registry.harbor = { ...c["groundwork:platform"].registry.harbor, tls: "provided", caCertificate: CORP_CA };
    c["groundwork:registryTlsCert"] = SECURE;
    c["groundwork:registryTlsKey"] = SECURE;
    return c;
}

async function problems(c: Config): Promise<string[]> {
    const r = await runCli(["validate", "--stack-file", writeStackFile(c)]);
    return r.code === 0 ? [] : r.stderr.trim().split("\n").slice(0, -1);
}

describe("registry.harbor.tls: provided (issue 11, item 13)", () => {
    it("validate: a complete provided-TLS stack is valid; each missing piece is named", async () => {
        assert.deepStrictEqual(await problems(providedProd()), []);
        const c = providedProd();
        delete c["groundwork:registryTlsKey"];
        delete c["groundwork:platform"].registry.harbor.caCertificate;
        assert.deepStrictEqual(await problems(c), [
            "platform.registry.harbor.caCertificate: is required when registry.harbor.tls is provided: the CA that signed groundwork:registryTlsCert, which every node trusts",
            "platform.registry.harbor.tls: is provided: needs the secret groundwork:registryTlsKey, its private key (PEM); set it with `pulumi config set --secret groundwork:registryTlsKey`",
        ]);
        const plain = providedProd();
        plain["groundwork:registryTlsCert"] = "-----BEGIN CERTIFICATE-----";
        assert.deepStrictEqual(await problems(plain), [
            "groundwork:registryTlsCert: must be a secret; set it with `pulumi config set --secret groundwork:registryTlsCert`",
            "platform.registry.harbor.tls: is provided: needs the secret groundwork:registryTlsCert, Harbor's server certificate (PEM) for registry.hostname; set it with `pulumi config set --secret groundwork:registryTlsCert`",
        ]);
        const stray = load("prod");
        stray["groundwork:platform"].registry.harbor.caCertificate = CORP_CA;
        assert.deepStrictEqual(await problems(stray), ["platform.registry.harbor.caCertificate: is used only when registry.harbor.tls is provided (with generated, groundwork makes the CA)"]);
    });

    it("render: nodes trust the provided CA (no registry-ca placeholder), once per machine", () => {
        const stack = loadStackFile(writeStackFile(providedProd()));
        assert.deepStrictEqual(stack.problems, []);
        const rendered = renderStack(stack.spec!);
        assert.ok(!("@@GROUNDWORK:registry-ca@@" in (rendered.plan.placeholders as object)));
        for (const m of rendered.machines) assert.strictEqual(m.userData.split("MIICORPORATEHARBORCACORPORATEHARBORCA").length - 1, 1, m.machine.name);
    });

    it("program: Harbor serves the secret keys' certificate and key (secret), no CA is generated for it, nodes trust the given CA", async () => {
        const out = await runProgram("prod", (config) => {
            const p = JSON.parse(config["groundwork:platform"]);
            p.registry.harbor = { ...p.registry.harbor, tls: "provided", caCertificate: CORP_CA };
            config["groundwork:platform"] = JSON.stringify(p);
            config["groundwork:registryTlsCert"] = "-----BEGIN CERTIFICATE-----\nMIIHARBORSERVERCERT\n-----END CERTIFICATE-----\n";
            config["groundwork:registryTlsKey"] = "-----BEGIN EC PRIVATE KEY-----\nMHcHARBORKEY\n-----END EC PRIVATE KEY-----\n";
        });
        // Only the cluster CA is self-signed; Harbor's chain is the user's.
        assert.deepStrictEqual(recorder.ofType("tls:index/selfSignedCert:SelfSignedCert").map((r) => r.name), ["prod-cluster-secrets-ca"]);
        const tlsSecret = recorder.ofType("kubernetes:core/v1:Secret").find((s) => s.inputs.type === "kubernetes.io/tls")!;
        assert.deepStrictEqual(tlsSecret.inputs.stringData, {
            "tls.crt": "-----BEGIN CERTIFICATE-----\nMIIHARBORSERVERCERT\n-----END CERTIFICATE-----\n",
            "tls.key": "-----BEGIN EC PRIVATE KEY-----\nMHcHARBORKEY\n-----END EC PRIVATE KEY-----\n",
            "ca.crt": CORP_CA,
        });
        assert.deepStrictEqual(tlsSecret.secretInputs, ["stringData"], "the key (and the certificate from its secret key) keep the Secret's data secret");
        const { providedRegistryTls } = await import("../../components/platform/platform");
        const material = providedRegistryTls(CORP_CA, { registryTlsCert: "c", registryTlsKey: "k" });
        assert.strictEqual(await pulumi.isSecret(material.keyPem), true);
        assert.strictEqual(await pulumi.isSecret(material.certPem), true);
        const reg = out.registry as unknown as { caPem: pulumi.Output<string> };
        assert.strictEqual(await valueOf(reg.caPem), CORP_CA);
        for (const s of recorder.ofType("openstack:compute/instance:Instance")) assert.strictEqual(s.inputs.userData.split("MIICORPORATEHARBORCACORPORATEHARBORCA").length - 1, 1, s.name);
    });
});

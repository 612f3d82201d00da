import * as assert from "assert";
import { Secret, unknownCheckingProxy } from "@pulumi/policy";
import { secretsPreservingProxy } from "@pulumi/policy/secret";
import { credentialsAreSecrets, sshKeyAuthOnly, verifiedTls } from "../../policy/policies";
import { wrapCredentials } from "../../policy/policies/credentials-are-secrets";
import { T } from "../../policy/lib";
import { bootstrapCommand, KUBECONFIG, kubernetesProvider, PRIVATE_KEY, vsphereProvider } from "./fixtures";
import { resourceArgs, violations, withField } from "./harness";

/** Props as the policy SDK hands them to a remediation: secrets as `Secret`, behind its two proxies. */
function remediationProps(props: Record<string, unknown>): Record<string, unknown> {
    return unknownCheckingProxy(secretsPreservingProxy(props));
}

describe("policy credentials-are-secrets", () => {
    const policy = credentialsAreSecrets("remediate");

    it("leaves credentials that already are secrets alone", async () => {
        const provider = { ...vsphereProvider, password: new Secret("s3cr3t") };
        assert.strictEqual(await policy.remediateResource!(resourceArgs(T.vsphereProvider, remediationProps(provider))), undefined);
        const command = { ...bootstrapCommand, connection: { ...bootstrapCommand.connection, privateKey: new Secret(PRIVATE_KEY) } };
        assert.strictEqual(wrapCredentials(T.remoteCommand, remediationProps(command)), undefined);
        const wholeConnection = { ...bootstrapCommand, connection: new Secret(bootstrapCommand.connection) };
        assert.strictEqual(wrapCredentials(T.remoteCommand, remediationProps(wholeConnection)), undefined);
    });

    it("makes a plain-text vCenter password a secret and keeps the other fields", async () => {
        const out = (await policy.remediateResource!(resourceArgs(T.vsphereProvider, remediationProps(vsphereProvider)))) as Record<string, unknown>;
        assert.ok(out.password instanceof Secret);
        assert.strictEqual((out.password as Secret).value, "s3cr3t");
        assert.strictEqual(out.vsphereServer, "vcenter.customer.example");
    });

    it("makes a plain-text SSH private key a secret, not the host", () => {
        const out = wrapCredentials(T.remoteCommand, remediationProps(bootstrapCommand)) as { connection: Record<string, unknown> };
        assert.ok(out.connection.privateKey instanceof Secret);
        assert.strictEqual(out.connection.host, "10.50.0.11");
    });

    it("makes a kubeconfig document a secret, but not a kubeconfig file path", () => {
        const out = wrapCredentials(T.kubernetesProvider, remediationProps(kubernetesProvider)) as Record<string, unknown>;
        assert.deepStrictEqual(out.kubeconfig, new Secret(KUBECONFIG));
        assert.strictEqual(wrapCredentials(T.kubernetesProvider, remediationProps({ kubeconfig: "/root/.kube/config" })), undefined);
    });

    it("passes a bootstrap command whose key is only in connection", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.remoteCommand, bootstrapCommand)), []);
    });

    it("rejects a private key written into the command line or a trigger", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.remoteCommand, withField(bootstrapCommand, "create", `echo '${PRIVATE_KEY}' > /root/.ssh/id`))), [
            "create contains a private key in plain text; pass it as connection.privateKey from the secret groundwork:sshPrivateKey",
        ]);
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.remoteCommand, withField(bootstrapCommand, "triggers", ["abc", PRIVATE_KEY]))), [
            "triggers contains a private key in plain text; pass it as connection.privateKey from the secret groundwork:sshPrivateKey",
        ]);
    });
});

describe("policy ssh-key-auth-only", () => {
    const policy = sshKeyAuthOnly("mandatory");

    it("passes key authentication", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.remoteCommand, bootstrapCommand)), []);
    });

    it("rejects a password login", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.remoteCommand, withField(bootstrapCommand, "connection.password", "hunter2"))), [
            "connection to 10.50.0.11 uses a password; log in with a key from the secret groundwork:sshPrivateKey",
        ]);
    });

    it("rejects a connection with no key at all", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.remoteCommand, withField(bootstrapCommand, "connection.privateKey", undefined))), [
            "connection to 10.50.0.11 has no privateKey; log in with a key from the secret groundwork:sshPrivateKey",
        ]);
    });
});

describe("policy verified-tls", () => {
    const policy = verifiedTls("advisory");

    it("passes providers that verify certificates", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.vsphereProvider, vsphereProvider)), []);
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.kubernetesProvider, kubernetesProvider)), []);
    });

    it("rejects allowUnverifiedSsl on the vSphere provider", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.vsphereProvider, withField(vsphereProvider, "allowUnverifiedSsl", true))), [
            "vSphere provider sets allowUnverifiedSsl: the vCenter password goes to an unverified server; trust vCenter's CA and set backends.vsphere.allowUnverifiedSsl: false",
        ]);
    });

    it("rejects insecure-skip-tls-verify in the kubeconfig", async () => {
        const kc = KUBECONFIG.replace("    certificate-authority-data: LS0tLS1CRUdJTg==", "    insecure-skip-tls-verify: true");
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.kubernetesProvider, withField(kubernetesProvider, "kubeconfig", kc))), [
            "kubernetes provider kubeconfig sets insecure-skip-tls-verify: true; use the cluster CA (certificate-authority-data)",
        ]);
    });
});

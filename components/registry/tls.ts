import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

/** A registry's TLS material. The key is a Pulumi secret from birth. */
export interface RegistryTls {
    caPem: pulumi.Output<string>;
    certPem: pulumi.Output<string>;
    keyPem: pulumi.Output<string>;
}

/** Validity of the generated CA and server certificate. Defaults: CA 10 years, server 2 years. */
export const CA_VALIDITY_HOURS = 10 * 365 * 24;
export const SERVER_VALIDITY_HOURS = 2 * 365 * 24;

function isIp(s: string): boolean {
    return /^\d{1,3}(\.\d{1,3}){3}$/.test(s);
}

/**
 * A CA made with @pulumi/tls and a server certificate it signs for `names` (DNS names and IPv4
 * addresses). Children are named `${name}-ca-key`, `${name}-ca`, `${name}-key`, `${name}-csr`, `${name}-cert`.
 */
export function issueRegistryTls(name: string, names: string[], parent: pulumi.Resource): RegistryTls {
    const opts = { parent };
    const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, opts);
    const ca = new tls.SelfSignedCert(
        `${name}-ca`,
        {
            privateKeyPem: caKey.privateKeyPem,
            isCaCertificate: true,
            subject: { commonName: `${name} registry CA`, organization: "groundwork" },
            validityPeriodHours: CA_VALIDITY_HOURS,
            allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
        },
        opts,
    );
    const key = new tls.PrivateKey(`${name}-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, opts);
    const dnsNames = names.filter((n) => !isIp(n));
    const ipAddresses = names.filter(isIp);
    const csr = new tls.CertRequest(
        `${name}-csr`,
        { privateKeyPem: key.privateKeyPem, subject: { commonName: names[0], organization: "groundwork" }, dnsNames, ipAddresses },
        opts,
    );
    const cert = new tls.LocallySignedCert(
        `${name}-cert`,
        {
            certRequestPem: csr.certRequestPem,
            caPrivateKeyPem: caKey.privateKeyPem,
            caCertPem: ca.certPem,
            validityPeriodHours: SERVER_VALIDITY_HOURS,
            allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
        },
        opts,
    );
    return { caPem: ca.certPem, certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPem) };
}

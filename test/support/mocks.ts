import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

/** One resource registration as the mock saw it (secret inputs unwrapped, secretness kept aside). */
export interface Registration {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /** Input property paths that arrived as secrets. */
    secretInputs: string[];
    provider?: string;
}

export interface Invoke {
    token: string;
    inputs: Record<string, any>;
}

const SIG = pulumi.runtime.specialSigKey;
const SECRET = pulumi.runtime.specialSecretSig;

/** Unwraps secret envelopes and reports where they were. */
export function unwrapSecrets(value: any, path = "", found: string[] = []): any {
    if (value && typeof value === "object" && !Array.isArray(value)) {
        if (value[SIG] === SECRET) {
            found.push(path);
            return unwrapSecrets(value.value, path, found);
        }
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v, path ? `${path}.${k}` : k, found)]));
    }
    if (Array.isArray(value)) return value.map((v, i) => unwrapSecrets(v, `${path}[${i}]`, found));
    return value;
}

/** Canned answers for the data-source invokes groundwork makes; anything else throws. */
const INVOKES: Record<string, (inputs: Record<string, any>) => Record<string, any>> = {
    "openstack:networking/getNetwork:getNetwork": (i) => ({ id: `net-${i.name}`, name: i.name }),
    "openstack:networking/getSubnet:getSubnet": (i) => ({ id: `subnet-of-${i.networkId}`, cidr: i.cidr }),
    "openstack:images/getImage:getImage": (i) => ({ id: `image-${i.name}`, name: i.name }),
    "vsphere:index/getDatacenter:getDatacenter": (i) => ({ id: `datacenter-${i.name}` }),
    "vsphere:index/getComputeCluster:getComputeCluster": (i) => ({ id: `domain-${i.name}`, resourcePoolId: `resgroup-${i.name}` }),
    "vsphere:index/getDatastore:getDatastore": (i) => ({ id: `datastore-${i.name}` }),
    "vsphere:index/getNetwork:getNetwork": (i) => ({ id: `network-${i.name}`, type: "DistributedVirtualPortgroup" }),
    "vsphere:index/getVirtualMachine:getVirtualMachine": (i) => ({
        id: `vm-${i.name}`,
        uuid: `uuid-${i.name}`,
        guestId: "debian12_64Guest",
        scsiType: "pvscsi",
        firmware: "efi",
        disks: [{ label: "disk0", size: 20, thinProvisioned: true }],
        networkInterfaceTypes: ["vmxnet3"],
    }),
};

/** Deterministic stand-ins (same name → same value) for what random/tls providers generate. */
export function generatedOutputs(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    const bytes = (label: string, n: number) => createHash("sha256").update(`${label}:${name}`).digest().subarray(0, n);
    const pem = (kind: string) => `-----BEGIN ${kind}-----\n${bytes(kind, 32).toString("base64")}\n-----END ${kind}-----\n`;
    switch (type) {
        case "random:index/randomId:RandomId":
            return { hex: bytes("id", inputs.byteLength ?? 8).toString("hex") };
        case "random:index/randomPassword:RandomPassword":
            return { bcryptHash: `$2a$10$${bytes("bcrypt", 32).toString("hex").slice(0, 53)}` };
        case "tls:index/privateKey:PrivateKey":
            return {
                privateKeyPem: pem("RSA PRIVATE KEY"),
                publicKeyPem: pem("PUBLIC KEY"),
                privateKeyOpenssh: pem("OPENSSH PRIVATE KEY"),
                publicKeyOpenssh: `ssh-${String(inputs.algorithm ?? "rsa").toLowerCase()} ${bytes("openssh", 32).toString("base64")}\n`,
            };
        case "tls:index/selfSignedCert:SelfSignedCert":
        case "tls:index/locallySignedCert:LocallySignedCert":
            return { certPem: pem("CERTIFICATE") };
        case "tls:index/certRequest:CertRequest":
            return { certRequestPem: pem("CERTIFICATE REQUEST") };
        default:
            return {};
    }
}

/** The recording mock: every registration and invoke, in order. */
export class Recorder implements pulumi.runtime.Mocks {
    registrations: Registration[] = [];
    invokes: Invoke[] = [];

    reset(): void {
        this.registrations = [];
        this.invokes = [];
    }

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
        const secretInputs: string[] = [];
        const inputs = unwrapSecrets(args.inputs, "", secretInputs);
        this.registrations.push({ type: args.type, name: args.name, inputs, secretInputs, provider: args.provider });
        const state: Record<string, any> = { ...args.inputs };
        if (args.type === "openstack:compute/instance:Instance") state.accessIpV4 = inputs.networks?.[0]?.fixedIpV4;
        if (args.type === "vsphere:index/virtualMachine:VirtualMachine") Object.assign(state, { moid: `vm-${args.name}`, uuid: `uuid-${args.name}` });
        if (args.type === "random:index/randomPassword:RandomPassword" || args.type === "random:index/randomString:RandomString") {
            state.result = "x".repeat(inputs.length ?? 16);
        }
        // A control plane's certificate report (its real output is tested in test/cluster/certificates-run.test.ts).
        if (args.type === "command:remote:Command" && args.name.endsWith("-certificates")) state.stdout = `[groundwork] note\nexpiry pki/apiserver.crt 2027-12-02T06:00:00Z\nexpiry admin.conf 2027-11-30T05:00:00Z\n`;
        Object.assign(state, generatedOutputs(args.type, args.name, inputs));
        // The Kubernetes provider names an object without metadata.name after its resource (plus a random suffix).
        if (/^kubernetes:(core|batch|apps)\//.test(args.type) && state.metadata && typeof state.metadata === "object" && state.metadata.name === undefined) {
            state.metadata = { ...state.metadata, name: args.name };
        }
        return { id: `${args.name}-id`, state };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        const inputs = unwrapSecrets(args.inputs);
        this.invokes.push({ token: args.token, inputs });
        const answer = INVOKES[args.token];
        if (!answer) throw new Error(`unmocked invoke ${args.token}: add it to test/support/mocks.ts`);
        return answer(inputs);
    }

    /** Registrations of one resource type. */
    ofType(type: string): Registration[] {
        return this.registrations.filter((r) => r.type === type);
    }
}

export const recorder = new Recorder();

/** Resolves an Output in tests (mocks resolve every value). */
export function valueOf<T>(o: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(o).apply((v) => resolve(v as T)));
}

/** Lets every pending registration reach the mock. */
export async function settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

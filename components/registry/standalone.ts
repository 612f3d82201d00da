import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { BootstrapPart } from "../engine/bootstrap";
import { EngineConfig } from "../engine/config";
import { MachineSpec } from "../machines/machine";
import { RegistryConfig } from "./config";
import { registryEndpoint, RegistryEndpoint } from "./endpoint";
import { DEFAULT_REGISTRY_USER, standaloneRegistryParts } from "./render-standalone";
import { issueRegistryTls } from "./tls";

export interface StandaloneRegistryArgs {
    /** The registry config (mode standalone). */
    config: RegistryConfig;
    /** The registry machine from the IP plan (role registry); its address is in the certificate. */
    machine: MachineSpec;
    /** The engine config: its package source (mirror, proxy) installs the registry package. */
    engine: EngineConfig;
    /** User the nodes and operators authenticate as. Defaults to `groundwork`. */
    username?: string;
    /** The platform's no_proxy entries (node subnet, …), as every node's apt gets them. Defaults to none. */
    noProxy?: string[];
}

/**
 * The standalone registry (bootstrap / air-gap): a CA and server certificate from @pulumi/tls, a
 * generated password hashed with bcrypt, and the bootstrap parts that turn the registry machine
 * into Debian's docker-registry with TLS and htpasswd auth. The platform hands `parts` to the
 * registry machine's bootstrap and `endpoint` to every node's engine and to the cluster.
 */
export class StandaloneRegistry extends pulumi.ComponentResource {
    /** Bootstrap parts of the registry machine (secret: they hold the server key). */
    public readonly parts: pulumi.Output<BootstrapPart[]>;
    public readonly endpoint: RegistryEndpoint<pulumi.Output<string>>;
    public readonly username: string;
    /** The registry password (a secret); the machine only ever sees its bcrypt hash. */
    public readonly password: pulumi.Output<string>;

    constructor(name: string, args: StandaloneRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:registry:Standalone", name, {}, opts);
        const child = { parent: this };
        const c = args.config;
        this.username = args.username ?? DEFAULT_REGISTRY_USER;
        const names = [...new Set([c.hostname, args.machine.address].filter((n): n is string => n !== undefined))];
        const material = issueRegistryTls(`${name}-tls`, names, this);
        const pw = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, child);
        this.password = pulumi.secret(pw.result);
        const endpoint = registryEndpoint(c, [args.machine], material.caPem);
        if (endpoint === undefined) throw new pulumi.ResourceError("platform.registry.mode: must be standalone for a StandaloneRegistry", this);
        this.endpoint = endpoint;
        this.parts = pulumi.secret(
            pulumi.all([material.certPem, material.keyPem, material.caPem, pw.bcryptHash]).apply(([certPem, keyPem, caPem, hash]) =>
                standaloneRegistryParts(args.engine, { host: endpoint.host, port: endpoint.port, certPem, keyPem, caPem, htpasswd: `${this.username}:${hash}` }, args.noProxy),
            ),
        );
        this.registerOutputs({ endpoint: { host: endpoint.host, port: endpoint.port, caPem: endpoint.caPem }, password: this.password });
    }
}

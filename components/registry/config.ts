import { z } from "zod";
import { count, dnsLabel, hostName, pem, pinnedVersion, url } from "../kit/zod-kit";

export const registryConfig = z
    .object({
        /** `none`, a standalone registry machine (bootstrap/air-gap), or Harbor on the cluster. Defaults to none. */
        mode: z.enum(["none", "standalone", "harbor"]).default("none"),
        /** DNS name clients use. Defaults to the registry machine's address. */
        hostname: hostName.optional(),
        /** Defaults to 5000 (standalone) or 443 (harbor). */
        port: count(1).max(65535).optional(),
        /** Pull images for Kubernetes and add-ons through this registry (air-gap). Defaults to false. */
        airGapped: z.boolean().default(false),
        /** Upstream registries mirrored as Harbor proxy-cache projects. */
        proxyCache: z.array(z.object({ name: dnsLabel(40), upstream: url() }).strict()).default([]),
        harbor: z
            .object({
                chartVersion: pinnedVersion.default("1.16.2"),
                storageClass: z.string().min(1).optional(),
                storageGiB: count(1).default(50),
                /**
                 * `generated`: a CA made with @pulumi/tls signs Harbor's certificate. `provided`: the
                 * certificate and key come from the secret keys groundwork:registryTlsCert and
                 * groundwork:registryTlsKey, and `caCertificate` is the CA that signed it. Defaults to generated.
                 */
                tls: z.enum(["generated", "provided"]).default("generated"),
                /** PEM of the CA that signed the provided certificate (tls: provided only); every node trusts it. */
                caCertificate: pem.optional(),
            })
            .strict()
            .default({}),
    })
    .strict();

export type RegistryConfig = z.infer<typeof registryConfig>;

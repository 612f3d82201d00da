import { z } from "zod";
import { hostName, pem, pinnedVersion, url } from "../kit/zod-kit";

export const engineKinds = ["containerd", "docker"] as const;
export type EngineKind = (typeof engineKinds)[number];

/** Debian 12 package pins used when `engine.packages` does not name a package. */
export const DEFAULT_ENGINE_PACKAGES: Record<EngineKind, Record<string, string>> = {
    containerd: { containerd: "1.6.20~ds1-1+deb12u3", runc: "1.1.5+ds1-1+deb12u1" },
    docker: { "docker.io": "20.10.24+dfsg1-1+deb12u1+b6", containerd: "1.6.20~ds1-1+deb12u3", runc: "1.1.5+ds1-1+deb12u1" },
};

export const packageSource = z
    .object({
        /**
         * `distribution`: the machine's own apt sources; `mirror`: only the internal mirror at
         * `url` (air-gap; an apt repository laid out like Debian's). Defaults to distribution.
         */
        kind: z.enum(["distribution", "mirror"]).default("distribution"),
        url: url().optional(),
        suite: z.string().regex(/^[a-z0-9./-]+$/, "must be an apt suite like bookworm").default("bookworm"),
        components: z.array(z.string().regex(/^[a-z0-9-]+$/, "must be an apt component like main")).min(1).default(["main"]),
        /** Accept an unsigned mirror (`[trusted=yes]`). Defaults to false: the mirror must carry the distribution's signatures. */
        trusted: z.boolean().default(false),
    })
    .strict();

export const engineConfig = z
    .object({
        /** Container engine on every machine. Defaults to containerd. */
        kind: z.enum(engineKinds).default("containerd"),
        /** Pinned Debian package versions (name → version), merged over the defaults. */
        packages: z.record(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, "must be a Debian package name"), pinnedVersion).default({}),
        packageSource: packageSource.default({}),
        /** HTTP(S) proxy for apt and the engine. Defaults to none. */
        proxy: z.object({ http: url().optional(), https: url().optional(), noProxy: z.array(z.string().min(1)).default([]) }).strict().optional(),
        /** Pull-through mirrors: registry host → endpoints tried in order. */
        mirrors: z.array(z.object({ host: hostName, endpoints: z.array(url()).min(1) }).strict()).default([]),
        /** Private CA certificates (PEM) trusted by the OS and the engine. */
        caCertificates: z.array(pem).default([]),
        /** Registries reached over plain HTTP. Only with allowInsecureRegistries. */
        insecureRegistries: z.array(hostName).default([]),
        allowInsecureRegistries: z.boolean().default(false),
        /**
         * Pod sandbox ("pause") image containerd uses. When the platform mirrors images into an
         * internal registry (kubeadm's imageRepository), its repository part is replaced by that
         * registry. Defaults to the pause image of the cluster's Kubernetes minor (the one its
         * kubeadm pulls: registry.k8s.io/pause:3.10 for 1.31–1.33, 3.10.1 for 1.34), and to
         * DEFAULT_SANDBOX_IMAGE for an engine without a cluster.
         */
        sandboxImage: z
            .string()
            .regex(/^[a-z0-9][a-z0-9._:/-]*\/[a-z0-9._-]+:[A-Za-z0-9_][A-Za-z0-9_.-]*$/, "must be an image reference with a registry host and a pinned tag, like registry.k8s.io/pause:3.10")
            .refine((s) => !s.endsWith(":latest"), "must have a pinned tag, not latest")
            .optional(),
    })
    .strict();

export type EngineConfig = z.infer<typeof engineConfig>;

/** The sandbox image of an engine that no cluster configures (kubeadm 1.31–1.33's pause). */
export const DEFAULT_SANDBOX_IMAGE = "registry.k8s.io/pause:3.10";
export type PackageSource = z.infer<typeof packageSource>;

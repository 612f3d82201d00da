import { z } from "zod";
import { count, dnsLabel } from "../kit/zod-kit";
import { Problem } from "../kit/problems";

/**
 * The app matrix (`apps` in `groundwork:platform`): named workloads, each of one role, sized by a
 * per-environment profile that explicit fields override. The parsed section is resolved once into
 * its effective form (every default applied), so `diff-stacks` compares what really runs.
 */

export const WORKLOAD_ROLES = ["static-site", "web-api", "user-db", "queue", "analytics-db"] as const;
export type WorkloadRole = (typeof WORKLOAD_ROLES)[number];
export const PROFILES = ["dev", "qa", "prod"] as const;
export type ProfileName = (typeof PROFILES)[number];
export type QueueEngine = "nats" | "rabbitmq";

/** Roles that keep data on a PersistentVolume (and take `storageGiB`). */
export const STATEFUL_ROLES: readonly WorkloadRole[] = ["user-db", "queue", "analytics-db"];
/** Roles served over HTTP (and take `ingressHost`). */
export const HTTP_ROLES: readonly WorkloadRole[] = ["static-site", "web-api"];
/**
 * Roles that run exactly one pod: a plain PostgreSQL or ClickHouse StatefulSet with more replicas
 * would be independent databases, not replicas (replication needs an operator or ClickHouse Keeper).
 */
export const SINGLE_INSTANCE_ROLES: Readonly<Partial<Record<WorkloadRole, string>>> = {
    "user-db": "one PostgreSQL primary (streaming replication needs an operator)",
    "analytics-db": "one ClickHouse server (replication needs ClickHouse Keeper)",
};

/** An image reference with a pinned tag: `registry/path:tag`, never `latest`, no digest-only refs. */
export const pinnedImage = z.string().refine((s) => /^[a-z0-9]([a-z0-9._:-]*[a-z0-9])?(\/[a-z0-9._-]+)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(s) && !s.endsWith(":latest"), (s) => ({
    message: `must be an image with a pinned tag like docker.io/library/nginx:1.28.0 (not latest); got "${s}"`,
}));

export const workloadConfig = z
    .object({
        role: z.enum(WORKLOAD_ROLES),
        /** Defaults to the role's pinned image (for a static site: the content image; the web server is pinned). */
        image: pinnedImage.optional(),
        /** Defaults to the profile's replicas for the role. */
        replicas: count(1).optional(),
        /** CPU request in millicores (the limit is twice that). Defaults to the profile's. */
        cpuMillis: count(1).optional(),
        /** Memory request and limit in MiB. Defaults to the profile's. */
        memoryMiB: count(1).optional(),
        /** PersistentVolume size (user-db, queue, analytics-db). Defaults to the profile's. */
        storageGiB: count(1).optional(),
        /** Host name of an Ingress (static-site, web-api); needs apps.ingressClass. */
        ingressHost: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a DNS name like api.example.com").optional(),
        /** Queue engine (queue only). Defaults to nats. */
        engine: z.enum(["nats", "rabbitmq"]).optional(),
        /**
         * The web server that serves a static site's content (static-site only): listens on 8080 as
         * a non-root user with a read-only root, serving /usr/share/nginx/html, as nginx-unprivileged
         * does. Defaults to WORKLOAD_IMAGES.webServer.
         */
        webServerImage: pinnedImage.optional(),
    })
    .strict();

export const appsConfig = z
    .object({
        /** Sizing profile. Defaults from environment: local/dev → dev, qa → qa, prod/customer → prod. */
        profile: z.enum(PROFILES).optional(),
        /** IngressClass for workloads with ingressHost. Defaults to none: no Ingress is made. */
        ingressClass: dnsLabel(63).optional(),
        /** StorageClass of every PersistentVolumeClaim. Defaults to Cinder CSI's `csi-cinder-sc-retain` when workers are OpenStack VMs with cloud integration on. */
        storageClass: dnsLabel(63).optional(),
        workloads: z.record(dnsLabel(40), workloadConfig).default({}),
    })
    .strict();

export type WorkloadConfig = z.infer<typeof workloadConfig>;
export type AppsConfig = z.infer<typeof appsConfig>;

/** A workload with every default applied. */
export interface EffectiveWorkload {
    role: WorkloadRole;
    /** The upstream image (the registry rewrite happens when objects are built). */
    image: string;
    replicas: number;
    cpuMillis: number;
    memoryMiB: number;
    storageGiB?: number;
    ingressHost?: string;
    engine?: QueueEngine;
    /** static-site only: the web server's upstream image. */
    webServerImage?: string;
}

export interface EffectiveApps {
    profile: ProfileName;
    ingressClass?: string;
    storageClass?: string;
    workloads: Record<string, EffectiveWorkload>;
}

interface RoleSize {
    replicas: number;
    cpuMillis: number;
    memoryMiB: number;
    storageGiB?: number;
}

export interface Profile {
    /** Spread pods across nodes (topology spread on the host name) and keep a PodDisruptionBudget. */
    ha: boolean;
    roles: Record<WorkloadRole, RoleSize>;
}

/**
 * Per-role defaults. dev: one small replica; qa: two (three for the queue, a quorum); prod: three,
 * spread across nodes, with disruption budgets. Databases stay single-instance (see SINGLE_INSTANCE_ROLES).
 */
export const PROFILE_DEFAULTS: Record<ProfileName, Profile> = {
    dev: {
        ha: false,
        roles: {
            "static-site": { replicas: 1, cpuMillis: 50, memoryMiB: 64 },
            "web-api": { replicas: 1, cpuMillis: 100, memoryMiB: 128 },
            "user-db": { replicas: 1, cpuMillis: 250, memoryMiB: 512, storageGiB: 5 },
            queue: { replicas: 1, cpuMillis: 100, memoryMiB: 256, storageGiB: 2 },
            "analytics-db": { replicas: 1, cpuMillis: 500, memoryMiB: 1024, storageGiB: 10 },
        },
    },
    qa: {
        ha: false,
        roles: {
            "static-site": { replicas: 2, cpuMillis: 100, memoryMiB: 128 },
            "web-api": { replicas: 2, cpuMillis: 250, memoryMiB: 256 },
            "user-db": { replicas: 1, cpuMillis: 500, memoryMiB: 1024, storageGiB: 20 },
            queue: { replicas: 3, cpuMillis: 250, memoryMiB: 512, storageGiB: 10 },
            "analytics-db": { replicas: 1, cpuMillis: 1000, memoryMiB: 2048, storageGiB: 50 },
        },
    },
    prod: {
        ha: true,
        roles: {
            "static-site": { replicas: 3, cpuMillis: 200, memoryMiB: 128 },
            "web-api": { replicas: 3, cpuMillis: 500, memoryMiB: 512 },
            "user-db": { replicas: 1, cpuMillis: 2000, memoryMiB: 4096, storageGiB: 100 },
            queue: { replicas: 3, cpuMillis: 500, memoryMiB: 1024, storageGiB: 20 },
            "analytics-db": { replicas: 1, cpuMillis: 4000, memoryMiB: 8192, storageGiB: 200 },
        },
    },
};

/** The profile an environment gets when apps.profile is not set. */
export function profileFor(environment: string): ProfileName {
    if (environment === "qa") return "qa";
    if (environment === "prod" || environment === "customer") return "prod";
    return "dev";
}

/** Upstream images, pinned. The static site's web server is fixed; `image` there is the content image. */
export const WORKLOAD_IMAGES = {
    webServer: "docker.io/nginxinc/nginx-unprivileged:1.28.0-alpine",
    webApi: "docker.io/hashicorp/http-echo:1.0.0",
    postgres: "docker.io/library/postgres:17.6",
    nats: "docker.io/library/nats:2.11.6-alpine",
    rabbitmq: "docker.io/library/rabbitmq:4.1.3",
    clickhouse: "docker.io/clickhouse/clickhouse-server:25.3.10.19",
} as const;

/** The default image of a role (and engine, for queues). A static site's default content is the web server's own page. */
export function defaultImage(role: WorkloadRole, engine?: QueueEngine): string {
    switch (role) {
        case "static-site":
            return WORKLOAD_IMAGES.webServer;
        case "web-api":
            return WORKLOAD_IMAGES.webApi;
        case "user-db":
            return WORKLOAD_IMAGES.postgres;
        case "queue":
            return engine === "rabbitmq" ? WORKLOAD_IMAGES.rabbitmq : WORKLOAD_IMAGES.nats;
        case "analytics-db":
            return WORKLOAD_IMAGES.clickhouse;
        default: {
            const unknown: never = role;
            throw new Error(`unknown role ${String(unknown)}`);
        }
    }
}

/** Role rules the schema cannot express, each with its key path under `root` (`platform.apps`). */
export function appsProblems(apps: AppsConfig, root: string): Problem[] {
    const problems: Problem[] = [];
    for (const [name, w] of Object.entries(apps.workloads)) {
        const p = (key: string, message: string) => problems.push({ path: `${root}.workloads.${name}.${key}`, message });
        if (w.engine !== undefined && w.role !== "queue") p("engine", `applies to role queue only, not ${w.role}`);
        if (w.storageGiB !== undefined && !STATEFUL_ROLES.includes(w.role)) p("storageGiB", `applies to roles ${STATEFUL_ROLES.join(", ")} only, not ${w.role}`);
        if (w.webServerImage !== undefined && w.role !== "static-site") p("webServerImage", `applies to role static-site only, not ${w.role}`);
        if (w.ingressHost !== undefined && !HTTP_ROLES.includes(w.role)) p("ingressHost", `applies to roles ${HTTP_ROLES.join(", ")} only, not ${w.role}`);
        if (w.ingressHost !== undefined && HTTP_ROLES.includes(w.role) && apps.ingressClass === undefined) {
            p("ingressHost", `needs ${root}.ingressClass: an Ingress is made only for a configured ingress class`);
        }
        const single = SINGLE_INSTANCE_ROLES[w.role];
        if (single !== undefined && w.replicas !== undefined && w.replicas !== 1) p("replicas", `must be 1 for role ${w.role}: ${single}; got ${w.replicas}`);
    }
    return problems;
}

/** Applies the profile and role defaults. `storageClass` is the resolved class (explicit or the platform's). */
export function resolveApps(apps: AppsConfig | undefined, environment: string, storageClass: string | undefined): EffectiveApps {
    const profile = apps?.profile ?? profileFor(environment);
    const defaults = PROFILE_DEFAULTS[profile].roles;
    const workloads: Record<string, EffectiveWorkload> = {};
    for (const [name, w] of Object.entries(apps?.workloads ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
        const d = defaults[w.role];
        const engine = w.role === "queue" ? (w.engine ?? "nats") : undefined;
        workloads[name] = {
            role: w.role,
            image: w.image ?? defaultImage(w.role, engine),
            replicas: w.replicas ?? d.replicas,
            cpuMillis: w.cpuMillis ?? d.cpuMillis,
            memoryMiB: w.memoryMiB ?? d.memoryMiB,
            ...(STATEFUL_ROLES.includes(w.role) ? { storageGiB: w.storageGiB ?? d.storageGiB } : {}),
            ...(w.ingressHost !== undefined ? { ingressHost: w.ingressHost } : {}),
            ...(engine !== undefined ? { engine } : {}),
            ...(w.role === "static-site" ? { webServerImage: w.webServerImage ?? WORKLOAD_IMAGES.webServer } : {}),
        };
    }
    return {
        profile,
        ...(apps?.ingressClass !== undefined ? { ingressClass: apps.ingressClass } : {}),
        ...(storageClass !== undefined ? { storageClass } : {}),
        workloads,
    };
}

/** Every upstream image the workloads run (a static site also runs its web server). Sorted, no repeats. */
export function workloadImages(apps: EffectiveApps): string[] {
    const images = new Set<string>();
    for (const w of Object.values(apps.workloads)) {
        images.add(w.image);
        if (w.webServerImage !== undefined) images.add(w.webServerImage);
    }
    return [...images].sort();
}

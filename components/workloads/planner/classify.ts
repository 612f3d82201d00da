import { Role, RoleOrUnclassified, ROLES, UNCLASSIFIED, Vm } from "./inventory";

/** What each role looks like from outside: listening ports, image/OS words, name words. */
interface RoleSignals {
    ports: number[];
    images: RegExp;
    names: RegExp;
}

// Word boundaries are "-", "_", ".", digits or the ends, so "pg" matches "app-pg-01" but not "upgrade".
const words = (...w: string[]) => new RegExp(`(^|[^a-z])(${w.join("|")})(?=$|[^a-z])`, "i");

/** The rule table: one entry per role; nothing else switches on the role. */
export const ROLE_SIGNALS: Record<Role, RoleSignals> = {
    "analytics-db": {
        ports: [8123, 9000, 9009, 8030, 8082, 5433, 9200],
        images: words("clickhouse", "druid", "vertica", "greenplum", "pinot", "doris", "starrocks", "elasticsearch", "opensearch", "trino", "presto"),
        names: words("analytics", "olap", "dwh", "warehouse", "clickhouse", "ch", "bi", "reporting", "druid"),
    },
    "user-db": {
        ports: [5432, 3306, 1433, 1521, 27017, 6379],
        images: words("postgres", "postgresql", "mysql", "mariadb", "mongo", "mongodb", "oracle", "mssql", "redis", "percona"),
        names: words("db", "pg", "postgres", "psql", "mysql", "maria", "sql", "mongo", "database", "redis"),
    },
    queue: {
        ports: [5672, 4222, 9092, 61616, 1883, 5671, 6650],
        images: words("rabbitmq", "nats", "kafka", "activemq", "artemis", "mosquitto", "pulsar"),
        names: words("mq", "rabbit", "rabbitmq", "queue", "kafka", "nats", "broker", "amqp", "bus"),
    },
    "web-api": {
        ports: [8080, 8000, 3000, 5000, 8443, 9090, 8081],
        images: words("tomcat", "jboss", "wildfly", "node", "nodejs", "java", "openjdk", "dotnet", "aspnet", "python", "django", "flask", "php", "rails", "golang", "spring"),
        names: words("api", "app", "svc", "service", "backend", "frontend", "portal", "web", "gw", "gateway", "shop"),
    },
    "static-site": {
        ports: [80, 443],
        images: words("nginx", "httpd", "apache", "caddy", "lighttpd"),
        names: words("www", "static", "site", "cdn", "docs", "landing", "assets", "blog"),
    },
};

/** Metadata keys whose value names the role outright. */
export const ROLE_METADATA_KEYS = ["role", "app-role", "groundwork.role", "workload"];

export interface Classification {
    role: RoleOrUnclassified;
    /** Why: `override`, `metadata role=user-db`, `port 5432`, `image "postgres-15"`, `name "pg-01"`, or why not. */
    reason: string;
}

// Names say "static" or "www" more precisely than "web" or "app", so the site is tried before the API.
const NAME_ORDER: Role[] = ["analytics-db", "user-db", "queue", "static-site", "web-api"];

const isRole = (s: string): s is Role => (ROLES as readonly string[]).includes(s);

/**
 * Classifies one VM. Evidence is tried strongest first: the overrides file, a role in metadata,
 * listening ports, the image or OS, then the name (and an annotation). Within one kind of
 * evidence, roles are tried in ROLES order (analytics before user DB before queue before API
 * before static site), so a VM listening on 5432 and 80 is a user DB.
 */
export function classify(vm: Vm, overrides: ReadonlyMap<string, RoleOrUnclassified> = new Map()): Classification {
    const o = overrides.get(vm.name);
    if (o !== undefined) return { role: o, reason: "override" };
    for (const key of ROLE_METADATA_KEYS) {
        const v = vm.metadata[key];
        if (v !== undefined && isRole(v.toLowerCase())) return { role: v.toLowerCase() as Role, reason: `metadata ${key}=${v}` };
    }
    // Only app ports decide alone: 80/443 on a VM that also runs an API port is the API.
    for (const role of ROLES) {
        const port = vm.ports.find((p) => ROLE_SIGNALS[role].ports.includes(p));
        if (port !== undefined) return { role, reason: `port ${port}` };
    }
    for (const [what, text] of [["image", vm.image], ["os", vm.os]] as const) {
        if (!text) continue;
        for (const role of ROLES) if (ROLE_SIGNALS[role].images.test(text)) return { role, reason: `${what} "${text}"` };
    }
    for (const [what, text] of [["name", vm.name], ["annotation", vm.metadata.annotation]] as const) {
        if (!text) continue;
        for (const role of NAME_ORDER) if (ROLE_SIGNALS[role].names.test(text)) return { role, reason: `${what} "${text}"` };
    }
    return { role: UNCLASSIFIED, reason: "no rule matched (name, image, OS, ports, metadata); add it to --overrides" };
}

/**
 * Parses an overrides file: one `name: role` per line (YAML mapping syntax, `#` comments).
 * Returns the map and one message per bad line.
 */
export function parseOverrides(file: string, text: string): { overrides: Map<string, RoleOrUnclassified>; problems: string[] } {
    const overrides = new Map<string, RoleOrUnclassified>();
    const problems: string[] = [];
    text.split(/\r?\n/).forEach((raw, i) => {
        const line = raw.replace(/\s+#.*$|^#.*$/, "").trim();
        if (line === "") return;
        const m = /^["']?([^"':]+?)["']?\s*:\s*["']?([A-Za-z-]+)["']?$/.exec(line);
        const where = `${file}:${i + 1}`;
        if (!m) return problems.push(`${where}: "${raw.trim()}" is not "name: role"`);
        const role = m[2].toLowerCase();
        if (!isRole(role) && role !== UNCLASSIFIED) return problems.push(`${where}: ${m[1]}: role "${m[2]}" is not one of ${[...ROLES, UNCLASSIFIED].join(", ")}`);
        if (overrides.has(m[1])) return problems.push(`${where}: ${m[1]} is overridden twice`);
        overrides.set(m[1], role as RoleOrUnclassified);
    });
    return { overrides, problems };
}

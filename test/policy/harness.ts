import {
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

/** Options a fake resource may override; everything else is the engine's default. */
export interface FakeOpts {
    name?: string;
    protect?: boolean;
    stackTags?: Record<string, string>;
}

function defaultOpts(protect = false) {
    return { protect, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] };
}

class NotApplicable extends Error {}

/** The argument bag the policy SDK hands `validateResource`, for one resource's inputs. */
export function resourceArgs(type: string, props: Record<string, unknown>, o: FakeOpts = {}): ResourceValidationArgs {
    const name = o.name ?? "res";
    return {
        type,
        props,
        urn: `urn:pulumi:test::groundwork::${type}::${name}`,
        name,
        opts: defaultOpts(o.protect),
        stackTags: new Map(Object.entries(o.stackTags ?? {})),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => ({}) as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

/** One resource of a stack, as `validateStack` sees it. */
export function stackResource(type: string, props: Record<string, unknown>, name = "res"): PolicyResource {
    return {
        type,
        props,
        urn: `urn:pulumi:test::groundwork::${type}::${name}`,
        name,
        opts: defaultOpts(),
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
    };
}

/** Runs a resource policy's validations and returns every violation message. */
export async function violations(policy: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<string[]> {
    const messages: string[] = [];
    const checks = Array.isArray(policy.validateResource) ? policy.validateResource : policy.validateResource ? [policy.validateResource] : [];
    for (const check of checks) await check(args, (m) => messages.push(m));
    return messages;
}

/** Runs a stack policy over the given resources and returns every violation message. */
export async function stackViolations(policy: StackValidationPolicy, resources: PolicyResource[], stackTags: Record<string, string> = {}): Promise<string[]> {
    const messages: string[] = [];
    const args: StackValidationArgs = {
        resources,
        stackTags: new Map(Object.entries(stackTags)),
        getConfig: <T extends object>() => ({}) as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
    await policy.validateStack(args, (m) => messages.push(m));
    return messages;
}

/**
 * A deep copy with one field set (undefined deletes it), for "happy path, one field changed" tests.
 * The path is dotted (`a.b.0.c`) or, for keys that contain dots, a list of keys.
 */
export function withField<T>(obj: T, path: string | string[], value: unknown): T {
    const copy = JSON.parse(JSON.stringify(obj));
    const keys = Array.isArray(path) ? path : path.split(".");
    let cur = copy;
    for (const k of keys.slice(0, -1)) cur = cur[k];
    const last = keys[keys.length - 1];
    if (value === undefined) delete cur[last];
    else cur[last] = value;
    return copy;
}

/** A Kubernetes object as plain data (apiVersion, kind, metadata, the rest), with no Pulumi in it. */
export interface K8sObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    [field: string]: unknown;
}

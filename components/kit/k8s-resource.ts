import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { K8sObject } from "./k8s-object";

type Ctor = new (name: string, args: any, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/** The typed resource for each object kind groundwork renders as plain data, and its short name suffix. */
const KINDS: Record<string, { ctor: Ctor; suffix: string }> = {
    "v1/Namespace": { ctor: k8s.core.v1.Namespace, suffix: "namespace" },
    "v1/ServiceAccount": { ctor: k8s.core.v1.ServiceAccount, suffix: "serviceaccount" },
    "v1/Service": { ctor: k8s.core.v1.Service, suffix: "service" },
    "v1/ConfigMap": { ctor: k8s.core.v1.ConfigMap, suffix: "configmap" },
    "v1/PersistentVolumeClaim": { ctor: k8s.core.v1.PersistentVolumeClaim, suffix: "pvc" },
    "rbac.authorization.k8s.io/v1/ClusterRole": { ctor: k8s.rbac.v1.ClusterRole, suffix: "clusterrole" },
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding": { ctor: k8s.rbac.v1.ClusterRoleBinding, suffix: "clusterrolebinding" },
    "apps/v1/DaemonSet": { ctor: k8s.apps.v1.DaemonSet, suffix: "daemonset" },
    "apps/v1/Deployment": { ctor: k8s.apps.v1.Deployment, suffix: "deployment" },
    "apps/v1/StatefulSet": { ctor: k8s.apps.v1.StatefulSet, suffix: "statefulset" },
    "autoscaling/v2/HorizontalPodAutoscaler": { ctor: k8s.autoscaling.v2.HorizontalPodAutoscaler, suffix: "hpa" },
    "policy/v1/PodDisruptionBudget": { ctor: k8s.policy.v1.PodDisruptionBudget, suffix: "pdb" },
    "networking.k8s.io/v1/Ingress": { ctor: k8s.networking.v1.Ingress, suffix: "ingress" },
    "batch/v1/CronJob": { ctor: k8s.batch.v1.CronJob, suffix: "cronjob" },
};

/** Registers one plain object as its typed Kubernetes resource. */
export function createObject(obj: K8sObject, resourceName: string, opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
    const { apiVersion, kind, ...args } = obj;
    const entry = KINDS[`${apiVersion}/${kind}`];
    if (!entry) throw new Error(`no resource type for ${apiVersion} ${kind}`);
    return new entry.ctor(resourceName, args, opts);
}

/** The short suffix of an object's kind in Pulumi names (`deployment`, `pvc`, …); the lower-cased kind for others. */
export function kindSuffix(obj: K8sObject): string {
    return KINDS[`${obj.apiVersion}/${obj.kind}`]?.suffix ?? obj.kind.toLowerCase();
}

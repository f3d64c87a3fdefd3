package readiness

import (
	"fmt"
	"strings"
	"time"
)

// judgedCase is an object waited for in one state, with the pods and
// ReplicaSets of its namespace, and how a Wait judges it whole: ready,
// pending or failed.
type judgedCase struct {
	name              string
	doc               string
	pods, replicaSets []string
	want              string
}

// judgedObject is object x in namespace ns (a CustomResourceDefinition has
// none) of kind, with labels, an owner, the annotation team: a and a
// creation an hour ago unless meta gives annotations or creationTimestamp;
// meta, spec and status in YAML's flow style ("" for none).
func judgedObject(apiVersion, kind, meta, spec, status string) string {
	md := "name: x, uid: x-uid, resourceVersion: \"7\", labels: {app: x}, ownerReferences: [{apiVersion: v1, kind: Thing, name: t, uid: o}]"
	if kind != "CustomResourceDefinition" {
		md += ", namespace: ns"
	}
	if !strings.Contains(meta, "annotations:") {
		md += ", annotations: {team: a}"
	}
	if !strings.Contains(meta, "creationTimestamp:") {
		md += ", creationTimestamp: " + ago(time.Hour)
	}
	if meta != "" {
		md += ", " + meta
	}
	doc := fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata: {%s}\n", apiVersion, kind, md)
	if spec != "" {
		doc += "spec: " + spec + "\n"
	}
	if status != "" {
		doc += "status: " + status + "\n"
	}
	return doc
}

func ago(d time.Duration) string { return `"` + time.Now().Add(-d).UTC().Format(time.RFC3339) + `"` }

// ownedPod is pod name of controller owner, with labels, its container
// waiting for reason when one is given.
func ownedPod(name, owner, labels, waiting string) string {
	state := "{running: {}}"
	if waiting != "" {
		state = "{waiting: {reason: " + waiting + ", message: m}}"
	}
	return fmt.Sprintf(`{apiVersion: v1, kind: Pod, metadata: {name: %s, namespace: ns, uid: %s-uid, labels: {%s},
  ownerReferences: [{apiVersion: apps/v1, kind: Owner, name: o, uid: %s, controller: true}]},
  status: {phase: Running, containerStatuses: [{name: app, image: i, imageID: "", ready: false, restartCount: 1, state: %s}]}}`,
		name, name, labels, owner, state)
}

// ownedReplicaSet is ReplicaSet name of Deployment x at revision.
func ownedReplicaSet(name, revision string) string {
	return fmt.Sprintf(`{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: %s, namespace: ns, uid: %s,
  annotations: {deployment.kubernetes.io/revision: "%s"}, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: x, uid: x-uid, controller: true}]}}`,
		name, name, revision)
}

// judgedCases are the states of every kind kstatus reads in its own way
// (cli-utils kstatus core.go), of a custom kind read by its conditions
// (generic.go, status.go), and those the checks of this package read
// (evaluate.go, pods.go): each field they read is set, and the states
// cover each of their branches.
func judgedCases() []judgedCase {
	var cases []judgedCase
	add := func(name, want, doc string, owned ...string) {
		c := judgedCase{name: name, doc: doc, want: want}
		for _, o := range owned {
			if strings.Contains(o, "kind: ReplicaSet") {
				c.replicaSets = append(c.replicaSets, o)
			} else {
				c.pods = append(c.pods, o)
			}
		}
		cases = append(cases, c)
	}

	dep := func(spec, status string, meta ...string) string {
		m := `generation: 3, annotations: {deployment.kubernetes.io/revision: "2", team: a}`
		if len(meta) > 0 {
			m += ", " + meta[0]
		}
		return judgedObject("apps/v1", "Deployment", m, spec, status)
	}
	depSpec := "{replicas: 3, progressDeadlineSeconds: 600, paused: false, strategy: {type: RollingUpdate}, template: {spec: {containers: [{name: app, image: i}]}}}"
	depStatus := func(replicas, updated, ready, available int, conds string) string {
		return fmt.Sprintf("{observedGeneration: 3, replicas: %d, updatedReplicas: %d, readyReplicas: %d, availableReplicas: %d, conditions: [%s]}",
			replicas, updated, ready, available, conds)
	}
	progressing := "{type: Progressing, status: \"True\", reason: ReplicaSetUpdated, message: m}"
	rolledOut := "{type: Progressing, status: \"True\", reason: NewReplicaSetAvailable, message: m}, {type: Available, status: \"True\", reason: MinimumReplicasAvailable}"
	revisions := []string{ownedReplicaSet("rs1", "1"), ownedReplicaSet("rs2", "2")}
	add("Deployment generation not observed", "pending", dep(depSpec, "{observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3}"))
	add("Deployment fewer replicas", "pending", dep(depSpec, depStatus(2, 2, 2, 2, progressing)))
	add("Deployment fewer updated", "pending", dep(depSpec, depStatus(3, 2, 3, 3, progressing)))
	add("Deployment extra pods", "pending", dep(depSpec, depStatus(4, 3, 3, 3, progressing)))
	add("Deployment fewer available", "pending", dep(depSpec, depStatus(3, 3, 3, 2, progressing)))
	add("Deployment fewer ready", "pending", dep(depSpec, depStatus(3, 3, 2, 3, progressing)))
	add("Deployment replica set not available", "pending", dep(depSpec, depStatus(3, 3, 3, 3, progressing+", {type: Available, status: \"True\"}")))
	add("Deployment without a deadline, not available", "pending", dep("{replicas: 3}", depStatus(3, 3, 3, 3, "")))
	add("Deployment of one replica by default", "ready", dep("{progressDeadlineSeconds: 600}", depStatus(1, 1, 1, 1, rolledOut)))
	add("Deployment current", "ready", dep(depSpec, depStatus(3, 3, 3, 3, rolledOut)))
	add("Deployment current, pods of the old revision crashing", "ready", dep(depSpec, depStatus(3, 3, 3, 3, rolledOut)),
		append(revisions, ownedPod("old", "rs1", "app: x", "CrashLoopBackOff"), ownedPod("new", "rs2", "app: x", ""))...)
	add("Deployment rolling out, a pod of its revision crashing", "failed", dep(depSpec, depStatus(3, 2, 2, 2, progressing)),
		append(revisions, ownedPod("new", "rs2", "app: x", "ImagePullBackOff"))...)
	add("Deployment progress deadline exceeded", "failed", dep(depSpec, depStatus(3, 2, 2, 2, "{type: Progressing, status: \"False\", reason: ProgressDeadlineExceeded, message: m}")))
	add("Deployment stalled", "failed", dep(depSpec, depStatus(3, 3, 3, 3, "{type: Stalled, status: \"True\", reason: R, message: m}")))
	add("Deployment reconciling", "pending", dep(depSpec, depStatus(3, 3, 3, 3, "{type: Reconciling, status: \"True\", reason: R, message: m}, "+rolledOut)))
	add("Deployment terminating", "pending", dep(depSpec, depStatus(3, 3, 3, 3, rolledOut), "deletionTimestamp: "+ago(time.Second)))

	sts := func(spec, status string) string {
		return judgedObject("apps/v1", "StatefulSet", "generation: 2", spec, status)
	}
	stsSpec := "{replicas: 3, updateStrategy: {type: RollingUpdate}, template: {spec: {containers: [{name: app, image: i}]}}}"
	stsStatus := func(replicas, ready, current, updated int, revision string) string {
		return fmt.Sprintf("{observedGeneration: 2, replicas: %d, readyReplicas: %d, currentReplicas: %d, updatedReplicas: %d, currentRevision: %s, updateRevision: r2}",
			replicas, ready, current, updated, revision)
	}
	add("StatefulSet generation not observed", "pending", sts(stsSpec, "{observedGeneration: 1, replicas: 3, readyReplicas: 3, currentReplicas: 3}"))
	add("StatefulSet fewer replicas", "pending", sts(stsSpec, stsStatus(2, 2, 2, 2, "r2")))
	add("StatefulSet fewer ready", "pending", sts(stsSpec, stsStatus(3, 2, 3, 3, "r2")))
	add("StatefulSet extra pods", "pending", sts(stsSpec, stsStatus(4, 3, 3, 3, "r2")))
	partitioned := "{replicas: 3, updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 1}}}"
	add("StatefulSet partition rolling out", "pending", sts(partitioned, stsStatus(3, 3, 3, 1, "r1")))
	add("StatefulSet partition rolled out", "ready", sts(partitioned, stsStatus(3, 3, 1, 2, "r1")))
	add("StatefulSet fewer current", "pending", sts(stsSpec, stsStatus(3, 3, 2, 3, "r2")))
	add("StatefulSet revision mismatch", "pending", sts(stsSpec, stsStatus(3, 3, 3, 3, "r1")))
	add("StatefulSet current", "ready", sts(stsSpec, stsStatus(3, 3, 3, 3, "r2")))
	add("StatefulSet on delete", "ready", sts("{replicas: 3, updateStrategy: {type: OnDelete}}", "{observedGeneration: 2, replicas: 1}"))
	add("StatefulSet current, a pod of the old revision crashing", "ready", sts(stsSpec, stsStatus(3, 3, 3, 3, "r2")),
		ownedPod("x-0", "x-uid", "controller-revision-hash: r1", "CrashLoopBackOff"))
	add("StatefulSet, a pod of its revision crashing", "failed", sts(stsSpec, stsStatus(3, 2, 3, 3, "r1")),
		ownedPod("x-0", "x-uid", "controller-revision-hash: r2", "CrashLoopBackOff"))

	ds := func(status string) string {
		return judgedObject("apps/v1", "DaemonSet", `generation: 2, annotations: {deprecated.daemonset.template.generation: "2", team: a}`,
			"{updateStrategy: {type: RollingUpdate}, template: {spec: {containers: [{name: app, image: i}]}}}", status)
	}
	dsStatus := func(desired, current, updated, available, ready int) string {
		return fmt.Sprintf("{observedGeneration: 2, desiredNumberScheduled: %d, currentNumberScheduled: %d, updatedNumberScheduled: %d, numberAvailable: %d, numberReady: %d}",
			desired, current, updated, available, ready)
	}
	add("DaemonSet without an observed generation", "pending", ds("{desiredNumberScheduled: 2}"))
	add("DaemonSet without a desired number", "pending", ds("{observedGeneration: 2}"))
	add("DaemonSet fewer current", "pending", ds(dsStatus(2, 1, 2, 2, 2)))
	add("DaemonSet fewer updated", "pending", ds(dsStatus(2, 2, 1, 2, 2)))
	add("DaemonSet fewer available", "pending", ds(dsStatus(2, 2, 2, 1, 2)))
	add("DaemonSet fewer ready", "pending", ds(dsStatus(2, 2, 2, 2, 1)))
	add("DaemonSet current", "ready", ds(dsStatus(2, 2, 2, 2, 2)))
	add("DaemonSet current, a pod of the old generation crashing", "ready", ds(dsStatus(2, 2, 2, 2, 2)),
		ownedPod("x-a", "x-uid", `pod-template-generation: "1"`, "CrashLoopBackOff"))
	add("DaemonSet, a pod of its generation crashing", "failed", ds(dsStatus(2, 2, 2, 1, 1)),
		ownedPod("x-a", "x-uid", `pod-template-generation: "2"`, "CreateContainerConfigError"))

	rs := func(status string) string {
		return judgedObject("apps/v1", "ReplicaSet", `generation: 1, annotations: {deployment.kubernetes.io/revision: "1", team: a}`,
			"{replicas: 2, template: {spec: {containers: [{name: app, image: i}]}}}", status)
	}
	rsStatus := func(replicas, labelled, available, ready int, conds string) string {
		return fmt.Sprintf("{observedGeneration: 1, replicas: %d, fullyLabeledReplicas: %d, availableReplicas: %d, readyReplicas: %d, conditions: [%s]}",
			replicas, labelled, available, ready, conds)
	}
	add("ReplicaSet replica failure", "pending", rs(rsStatus(2, 2, 2, 2, "{type: ReplicaFailure, status: \"True\", reason: FailedCreate, message: m}")))
	add("ReplicaSet fewer labelled", "pending", rs(rsStatus(2, 1, 2, 2, "")))
	add("ReplicaSet fewer available", "pending", rs(rsStatus(2, 2, 1, 2, "")))
	add("ReplicaSet fewer ready", "pending", rs(rsStatus(2, 2, 2, 1, "")))
	add("ReplicaSet extra pods", "pending", rs(rsStatus(3, 2, 2, 2, "")))
	add("ReplicaSet current", "ready", rs(rsStatus(2, 2, 2, 2, "")))

	job := func(status string) string {
		return judgedObject("batch/v1", "Job", "generation: 1", "{parallelism: 2, completions: 4, template: {spec: {containers: [{name: app, image: i}]}}}", status)
	}
	add("Job not started", "pending", job(""))
	add("Job running", "ready", job(`{startTime: "2026-11-30T06:00:00Z", active: 2, succeeded: 1, failed: 1}`))
	add("Job running, a pod crashing", "failed", job(`{startTime: "2026-11-30T06:00:00Z", active: 2}`), ownedPod("x-a", "x-uid", "job-name: x", "CrashLoopBackOff"))
	add("Job complete", "ready", job(`{startTime: "2026-11-30T06:00:00Z", succeeded: 4, conditions: [{type: Complete, status: "True"}]}`))
	add("Job failed", "failed", job(`{startTime: "2026-11-30T06:00:00Z", failed: 6, conditions: [{type: Failed, status: "True", reason: BackoffLimitExceeded}]}`))
	add("CronJob", "ready", judgedObject("batch/v1", "CronJob", "generation: 1", `{schedule: "* * * * *", jobTemplate: {spec: {template: {spec: {containers: [{name: app, image: i}]}}}}}`, "{}"))

	pod := func(meta, status string) string {
		return judgedObject("v1", "Pod", meta, "{nodeName: node-1, containers: [{name: app, image: i}], initContainers: [{name: init, image: i}]}", status)
	}
	unschedulable := `{phase: Pending, conditions: [{type: PodScheduled, status: "False", reason: Unschedulable, message: m}]}`
	add("Pod unschedulable, just created", "pending", pod("creationTimestamp: "+ago(0), unschedulable))
	add("Pod unschedulable for a minute", "failed", pod("creationTimestamp: "+ago(time.Minute), unschedulable))
	add("Pod pending", "pending", pod("", `{phase: Pending, conditions: [{type: PodScheduled, status: "True"}], containerStatuses: [{name: app, state: {waiting: {reason: ContainerCreating}}}]}`))
	add("Pod pending, its image not pulled", "failed", pod("", `{phase: Pending, containerStatuses: [{name: app, state: {waiting: {reason: ErrImagePull, message: m}}}]}`))
	add("Pod pending, its init container failing", "failed", pod("", `{phase: Pending, initContainerStatuses: [{name: init, state: {waiting: {reason: RunContainerError, message: m}}}]}`))
	add("Pod not observed", "pending", pod("", ""))
	add("Pod running, not ready", "pending", pod("", `{phase: Running, conditions: [{type: Ready, status: "False"}], containerStatuses: [{name: app, state: {running: {}}}]}`))
	add("Pod running, crash looping", "failed", pod("", `{phase: Running, containerStatuses: [{name: app, state: {waiting: {reason: CrashLoopBackOff, message: m}}}]}`))
	add("Pod ready", "ready", pod("", `{phase: Running, conditions: [{type: Ready, status: "True"}], containerStatuses: [{name: app, state: {running: {}}}]}`))
	add("Pod succeeded", "ready", pod("", "{phase: Succeeded}"))
	add("Pod failed", "ready", pod("", "{phase: Failed}"))
	add("Pod of an unknown phase", "failed", pod("", "{phase: Unknown}"))
	add("Pod terminating", "pending", pod("deletionTimestamp: "+ago(0), `{phase: Running, conditions: [{type: Ready, status: "True"}]}`))

	add("PersistentVolumeClaim pending", "pending", judgedObject("v1", "PersistentVolumeClaim", "", "{accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}", "{phase: Pending}"))
	add("PersistentVolumeClaim bound", "ready", judgedObject("v1", "PersistentVolumeClaim", "", "{volumeName: v, accessModes: [ReadWriteOnce]}", "{phase: Bound}"))
	add("Service load balancer without a cluster IP", "pending", judgedObject("v1", "Service", "", "{type: LoadBalancer, ports: [{port: 80}]}", "{loadBalancer: {}}"))
	add("Service load balancer", "ready", judgedObject("v1", "Service", "", "{type: LoadBalancer, clusterIP: 10.0.0.1}", "{loadBalancer: {}}"))
	add("Service", "ready", judgedObject("v1", "Service", "", "{clusterIP: 10.0.0.2, ports: [{port: 80}]}", ""))
	add("PodDisruptionBudget generation not observed", "pending", judgedObject("policy/v1", "PodDisruptionBudget", "generation: 2", "{minAvailable: 1}", "{observedGeneration: 1}"))
	add("PodDisruptionBudget", "ready", judgedObject("policy/v1", "PodDisruptionBudget", "generation: 2", "{minAvailable: 1}", "{observedGeneration: 2, disruptionsAllowed: 1}"))
	add("ConfigMap", "ready", judgedObject("v1", "ConfigMap", "", "", "")+"data: {a: b}\n")
	add("Secret", "ready", judgedObject("v1", "Secret", "", "", "")+"data: {a: Yg==}\n")

	crd := func(conds string) string {
		return judgedObject("apiextensions.k8s.io/v1", "CustomResourceDefinition", "generation: 1", "{group: example.com, scope: Namespaced, names: {kind: Widget, plural: widgets}}", "{conditions: ["+conds+"]}")
	}
	add("CustomResourceDefinition names not accepted", "failed", crd(`{type: NamesAccepted, status: "False", reason: ListKindConflict, message: m}`))
	add("CustomResourceDefinition installing", "pending", crd(`{type: NamesAccepted, status: "True"}, {type: Established, status: "False", reason: Installing}`))
	add("CustomResourceDefinition not established", "failed", crd(`{type: Established, status: "False", reason: Broken, message: m}`))
	add("CustomResourceDefinition established", "ready", crd(`{type: NamesAccepted, status: "True"}, {type: Established, status: "True"}`))
	add("CustomResourceDefinition without conditions", "pending", crd(""))

	widget := func(status string) string {
		return judgedObject("example.com/v1", "Widget", "generation: 2", "{size: 3}", status)
	}
	add("custom kind ready", "ready", widget(`{observedGeneration: 2, conditions: [{type: Ready, status: "True"}]}`))
	add("custom kind not ready", "pending", widget(`{observedGeneration: 2, conditions: [{type: Ready, status: "False", reason: R, message: m}]}`))
	add("custom kind ready unknown", "pending", widget(`{observedGeneration: 2, conditions: [{type: Ready, status: "Unknown", reason: R, message: m}]}`))
	add("custom kind reconciling", "pending", widget(`{observedGeneration: 2, conditions: [{type: Reconciling, status: "True", reason: R, message: m}]}`))
	add("custom kind stalled", "failed", widget(`{observedGeneration: 2, conditions: [{type: Stalled, status: "True", reason: R, message: m}]}`))
	add("custom kind generation not observed", "pending", widget(`{observedGeneration: 1, conditions: [{type: Ready, status: "True"}]}`))
	add("custom kind without conditions", "ready", widget(""))
	return cases
}

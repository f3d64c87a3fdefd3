package readiness

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// podJSON is a Deployment's pod as the API server sends it: one container
// with a few variables and a mounted token, scheduled and running.
const podJSON = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-7c9d8f6b5-%05d","generateName":"web-7c9d8f6b5-","namespace":"team-a",
"uid":"0b8f1c2e-6a4b-4c1d-9e2f-%012d","resourceVersion":"123456","creationTimestamp":"2026-11-30T06:00:00Z",
"labels":{"app":"web","pod-template-hash":"7c9d8f6b5"},
"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7c9d8f6b5","uid":"5f0e2a1b-7c3d-4e5f-8a9b-0c1d2e3f4a5b","controller":true,"blockOwnerDeletion":true}],
"managedFields":[{"manager":"kube-controller-manager","operation":"Update","apiVersion":"v1","time":"2026-11-30T06:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"5f0e2a1b\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:env":{},"f:image":{},"f:name":{},"f:ports":{}}}}}},
{"manager":"kubelet","operation":"Update","apiVersion":"v1","time":"2026-11-30T06:00:05Z","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{},"f:containerStatuses":{},"f:hostIP":{},"f:phase":{},"f:podIP":{},"f:startTime":{}}},"subresource":"status"}]},
"spec":{"containers":[{"name":"app","image":"registry.example.com/web:1.2.3","ports":[{"containerPort":8080,"protocol":"TCP"}],
"env":[{"name":"LOG_LEVEL","value":"info"},{"name":"DATABASE_URL","value":"postgres://db:5432/app"},{"name":"FEATURE_FLAGS","value":"a,b,c"}],
"resources":{"requests":{"cpu":"100m","memory":"128Mi"}},"volumeMounts":[{"name":"kube-api-access-abcde","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],
"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default","serviceAccount":"default","nodeName":"node-1",
"securityContext":{},"schedulerName":"default-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],
"priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority",
"volumes":[{"name":"kube-api-access-abcde","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}]},
"status":{"phase":"Running","conditions":[{"type":"Initialized","status":"True","lastTransitionTime":"2026-11-30T06:00:01Z"},{"type":"Ready","status":"True","lastTransitionTime":"2026-11-30T06:00:05Z"},{"type":"ContainersReady","status":"True","lastTransitionTime":"2026-11-30T06:00:05Z"},{"type":"PodScheduled","status":"True","lastTransitionTime":"2026-11-30T06:00:00Z"}],
"hostIP":"10.0.0.1","podIP":"10.244.1.17","podIPs":[{"ip":"10.244.1.17"}],"startTime":"2026-11-30T06:00:01Z",
"containerStatuses":[{"name":"app","state":{"running":{"startedAt":"2026-11-30T06:00:04Z"}},"lastState":{},"ready":true,"restartCount":0,"image":"registry.example.com/web:1.2.3","imageID":"registry.example.com/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","containerID":"containerd://0123456789abcdef","started":true}],
"qosClass":"Burstable"}}`

// BenchmarkPodCache reports the heap a cached pod holds: whole but its
// managedFields (what informers kept before), and pared as the pod
// informers keep them. Figures in bench/README.md.
func BenchmarkPodCache(b *testing.B) {
	for _, p := range []struct {
		name string
		p    pare
	}{{"whole", whole}, {"pared", podTroubles}} {
		b.Run(p.name, func(b *testing.B) { heldEach(b, podJSON, 2000, p.p, "bytes/pod") })
	}
}

// heldEach reports the heap n objects of doc (formatted with their
// index twice) hold in an informer that keeps them as p does.
func heldEach(b *testing.B, doc string, n int, p pare, unit string) {
	var each float64
	for b.Loop() {
		kept := make([]any, 0, n)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range n {
			u := &unstructured.Unstructured{}
			if err := json.Unmarshal(fmt.Appendf(nil, doc, i, i), &u.Object); err != nil {
				b.Fatal(err)
			}
			obj, err := p.transform(u)
			if err != nil {
				b.Fatal(err)
			}
			kept = append(kept, obj)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		each = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
		runtime.KeepAlive(kept)
	}
	b.ReportMetric(each, unit)
}

// deploymentJSON is a Deployment of one container as the API server sends
// it: defaults filled in, rolled out, its revision noted.
const deploymentJSON = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"app-%05d","namespace":"team-a",
"uid":"0b8f1c2e-6a4b-4c1d-9e2f-%012d","resourceVersion":"123456","generation":1,"creationTimestamp":"2026-11-30T06:00:00Z",
"labels":{"syncgate.dev/owner":"team-a"},"annotations":{"deployment.kubernetes.io/revision":"1"},
"managedFields":[{"manager":"syncgate","operation":"Apply","apiVersion":"apps/v1","time":"2026-11-30T06:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{"f:syncgate.dev/owner":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{}}}}}}}}]},
"spec":{"replicas":1,"selector":{"matchLabels":{"app":"app-1"}},
"template":{"metadata":{"creationTimestamp":null,"labels":{"app":"app-1"}},"spec":{"containers":[{"name":"app","image":"registry.example.com/app:1","resources":{},
"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}},
"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%%","maxSurge":"25%%"}},"revisionHistoryLimit":10,"progressDeadlineSeconds":600},
"status":{"observedGeneration":1,"replicas":1,"updatedReplicas":1,"readyReplicas":1,"availableReplicas":1,
"conditions":[{"type":"Available","status":"True","lastUpdateTime":"2026-11-30T06:00:05Z","lastTransitionTime":"2026-11-30T06:00:05Z","reason":"MinimumReplicasAvailable","message":"Deployment has minimum availability."},
{"type":"Progressing","status":"True","lastUpdateTime":"2026-11-30T06:00:05Z","lastTransitionTime":"2026-11-30T06:00:00Z","reason":"NewReplicaSetAvailable","message":"ReplicaSet \"app-1-7c9d8f6b5\" has successfully progressed."}]}}`

// configMapJSON is a ConfigMap of 200 bytes as the API server sends it.
const configMapJSON = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%05d","namespace":"team-a",
"uid":"0b8f1c2e-6a4b-4c1d-9e2f-%012d","resourceVersion":"123456","creationTimestamp":"2026-11-30T06:00:00Z",
"labels":{"syncgate.dev/owner":"team-a"},
"managedFields":[{"manager":"syncgate","operation":"Apply","apiVersion":"v1","time":"2026-11-30T06:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:index":{},"f:payload":{}},"f:metadata":{"f:labels":{"f:syncgate.dev/owner":{}}}}}]},
"data":{"index":"1","payload":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}`

// BenchmarkJudgedCache reports the heap a cached Deployment and ConfigMap
// hold, whole but their managedFields and as the informers of objects
// waited for keep them. Figures in the comment of judged.
func BenchmarkJudgedCache(b *testing.B) {
	for _, doc := range []struct{ name, json string }{{"Deployment", deploymentJSON}, {"ConfigMap", configMapJSON}} {
		for _, p := range []struct {
			name string
			p    pare
		}{{"whole", whole}, {"judged", judged}} {
			b.Run(doc.name+"/"+p.name, func(b *testing.B) { heldEach(b, doc.json, 2500, p.p, "bytes/object") })
		}
	}
}

package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/yaml"
)

// Pod-template annotations that make kwok fail a pod on purpose.
const (
	// AnnotationFail: crashloop, imagepull or configerror.
	AnnotationFail = "syncgate.dev/test-fail"
	// AnnotationReadyAfter: a Go duration; the pod runs at once, Ready after it.
	AnnotationReadyAfter = "syncgate.dev/test-ready-after"
	// CrashloopTag ends the tag of an image that crashloops, as a broken
	// release would: an image bump to "1.2.0-crashloop" fails the rollout
	// with no other change to the pod template.
	CrashloopTag = "-crashloop"
)

// crashingImage is a kwok selector key: true when a container's image tag
// ends in CrashloopTag.
var crashingImage = fmt.Sprintf(`[.spec.containers[].image | endswith(%q)] | any`, CrashloopTag)

func insecureTransport() *http.Transport {
	return &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // local test control plane
}

// shippedStages are the stage files kwok ships that the cluster uses, read
// from the module cache at run time.
var shippedStages = []string{
	"kustomize/stage/node/fast/node-initialize.yaml",
	"kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
	"kustomize/stage/pod/fast/pod-ready.yaml",
	"kustomize/stage/pod/fast/pod-complete.yaml",
	"kustomize/stage/pod/fast/pod-delete.yaml",
}

type stage = map[string]any

// writeStages writes kwok's configuration: its own node and pod stages, with
// pod-ready told to leave test pods alone, plus the failure stages.
func writeStages(ctx context.Context, dir string) (string, error) {
	modDir, err := Kwok.ModuleDir(ctx)
	if err != nil {
		return "", err
	}
	var docs []stage
	var readyTemplate string
	for _, rel := range shippedStages {
		b, err := os.ReadFile(filepath.Join(modDir, rel))
		if err != nil {
			return "", fmt.Errorf("kwok stage %s: %w", rel, err)
		}
		var s stage
		if err := yaml.Unmarshal(b, &s); err != nil {
			return "", fmt.Errorf("kwok stage %s: %w", rel, err)
		}
		if filepath.Base(rel) == "pod-ready.yaml" {
			spec := s["spec"].(map[string]any)
			sel := spec["selector"].(map[string]any)
			exprs := sel["matchExpressions"].([]any)
			for _, a := range []string{AnnotationFail, AnnotationReadyAfter} {
				exprs = append(exprs, map[string]any{"key": annotationKey(a), "operator": "DoesNotExist"})
			}
			exprs = append(exprs, map[string]any{"key": crashingImage, "operator": "NotIn", "values": []any{"true"}})
			sel["matchExpressions"] = exprs
			readyTemplate = spec["next"].(map[string]any)["statusTemplate"].(string)
		}
		docs = append(docs, s)
	}
	if readyTemplate == "" {
		return "", fmt.Errorf("kwok pod-ready stage has no status template")
	}
	docs = append(docs, testStages(readyTemplate)...)
	var buf bytes.Buffer
	for _, d := range docs {
		b, err := yaml.Marshal(d)
		if err != nil {
			return "", err
		}
		buf.WriteString("---\n")
		buf.Write(b)
	}
	path := filepath.Join(dir, "kwok-stages.yaml")
	return path, os.WriteFile(path, buf.Bytes(), 0o600)
}

func annotationKey(a string) string { return fmt.Sprintf(`.metadata.annotations[%q]`, a) }

func podStage(name string, exprs []any, template string, extra map[string]any) stage {
	spec := map[string]any{
		"resourceRef": map[string]any{"apiGroup": "v1", "kind": "Pod"},
		"selector": map[string]any{"matchExpressions": append([]any{
			map[string]any{"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
		}, exprs...)},
		"next": map[string]any{"statusTemplate": template},
	}
	for k, v := range extra {
		spec[k] = v
	}
	return stage{"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Stage", "metadata": map[string]any{"name": name}, "spec": spec}
}

func phaseIs(phase string) map[string]any {
	return map[string]any{"key": ".status.phase", "operator": "In", "values": []any{phase}}
}

// notReadyTemplate is the status of a pod in phase whose containers are
// not ready: each started or not, with restarts, then the fields in rest
// (its state and last state).
func notReadyTemplate(phase string, started bool, restarts int, rest string) string {
	return fmt.Sprintf(`{{ $now := Now }}
phase: %s
startTime: {{ $now | Quote }}
conditions:
- type: Initialized
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: Ready
  status: "False"
  reason: ContainersNotReady
  lastTransitionTime: {{ $now | Quote }}
- type: ContainersReady
  status: "False"
  reason: ContainersNotReady
  lastTransitionTime: {{ $now | Quote }}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: false
  started: %t
  restartCount: %d%s
{{ end }}
`, phase, started, restarts, rest)
}

// lastTerminated is a container's last state after a failed run.
const lastTerminated = `
  lastState:
    terminated:
      exitCode: 1
      reason: Error
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}`

// waiting is a container's state while it waits for reason.
func waiting(reason, message string) string {
	return fmt.Sprintf(`
  state:
    waiting:
      reason: %s
      message: %q`, reason, message)
}

// waitingTemplate puts every container in a waiting state with reason.
func waitingTemplate(phase, reason, message string, restarts int) string {
	last := ""
	if restarts > 0 {
		last = lastTerminated
	}
	return notReadyTemplate(phase, false, restarts, last+waiting(reason, message))
}

// runningNotReady starts every container, none of them ready.
func runningNotReady() string {
	return notReadyTemplate("Running", true, 0, `
  state:
    running:
      startedAt: {{ $now | Quote }}`)
}

// crashRestartEvery is how often a crashlooping container restarts.
const crashRestartEvery = 2 * time.Second

const crashLoopMessage = "back-off 10s restarting failed container"

// crashRestartTemplate counts one more restart of every container.
func crashRestartTemplate() string {
	return `{{ $now := Now }}
containerStatuses:
{{ range .status.containerStatuses }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: false
  started: false
  restartCount: {{ add1 .restartCount }}` + lastTerminated + waiting("CrashLoopBackOff", crashLoopMessage) + `
{{ end }}
`
}

func testStages(readyTemplate string) []stage {
	failIs := func(v string) map[string]any {
		return map[string]any{"key": annotationKey(AnnotationFail), "operator": "In", "values": []any{v}}
	}
	noStatuses := map[string]any{"key": ".status.containerStatuses", "operator": "DoesNotExist"}
	readyAfter := map[string]any{"key": annotationKey(AnnotationReadyAfter), "operator": "Exists"}
	notReady := map[string]any{
		"key": `.status.conditions.[] | select( .type == "Ready" ) | .status`, "operator": "NotIn", "values": []any{"True"},
	}
	crashes := map[string]any{"key": crashingImage, "operator": "In", "values": []any{"true"}}
	var stages []stage
	// A crashing container (its image's tag, or the annotation): it starts
	// crashlooping, then its restarts go up every crashRestartEvery, as a
	// kubelet's would (without its growing back-off).
	for _, crash := range []struct {
		name string
		expr any
	}{{"syncgate-test-crashloop-image", crashes}, {"syncgate-test-crashloop", failIs("crashloop")}} {
		stages = append(stages,
			podStage(crash.name, []any{crash.expr, phaseIs("Pending")}, waitingTemplate("Running", "CrashLoopBackOff", crashLoopMessage, 1), nil),
			podStage(crash.name+"-restart", []any{crash.expr, phaseIs("Running")}, crashRestartTemplate(), map[string]any{
				"delay": map[string]any{"durationMilliseconds": crashRestartEvery.Milliseconds()},
			}))
	}
	return append(stages,
		podStage("syncgate-test-imagepull", []any{failIs("imagepull"), phaseIs("Pending"), noStatuses},
			waitingTemplate("Pending", "ImagePullBackOff", "Back-off pulling image", 0), nil),
		podStage("syncgate-test-configerror", []any{failIs("configerror"), phaseIs("Pending"), noStatuses},
			waitingTemplate("Pending", "CreateContainerConfigError", "configmap \"missing\" not found", 0), nil),
		podStage("syncgate-test-running", []any{readyAfter, phaseIs("Pending")}, runningNotReady(), nil),
		podStage("syncgate-test-ready-after", []any{readyAfter, phaseIs("Running"), notReady}, readyTemplate, map[string]any{
			"delay": map[string]any{
				"durationMilliseconds": 1000,
				"durationFrom":         map[string]any{"jq": map[string]any{"expression": annotationKey(AnnotationReadyAfter)}},
			},
		}),
	)
}

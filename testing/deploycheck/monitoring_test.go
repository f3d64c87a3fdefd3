package deploycheck

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	promql "github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

const root = "../.."

// exported finds the metric names syncgate registers, from its source:
// the Name of every prometheus *Opts literal and the name of every
// prometheus.NewDesc, outside tests, benchmarks and test tooling.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "testing" || rel == "bench" || (rel != "." && strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				sel, ok := n.Type.(*ast.SelectorExpr)
				if !ok || !strings.HasSuffix(sel.Sel.Name, "Opts") {
					return true
				}
				for _, e := range n.Elts {
					if kv, ok := e.(*ast.KeyValueExpr); ok && ident(kv.Key) == "Name" {
						if s, ok := literal(kv.Value); ok {
							names[s] = true
						}
					}
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "NewDesc" && len(n.Args) > 0 {
					if s, ok := literal(n.Args[0]); ok {
						names[s] = true
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func ident(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

func literal(e ast.Expr) (string, bool) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(bl.Value)
	return s, err == nil && strings.HasPrefix(s, "syncgate_")
}

// metricsOf parses a PromQL expression and lists the syncgate metrics it
// selects, histogram series (_bucket, _sum, _count) by their family.
func metricsOf(t *testing.T, p promql.Parser, expr string) []string {
	t.Helper()
	node, err := p.ParseExpr(expr)
	if err != nil {
		t.Fatalf("%q does not parse: %v", expr, err)
	}
	var out []string
	promql.Inspect(node, func(n promql.Node, _ []promql.Node) error {
		if vs, ok := n.(*promql.VectorSelector); ok {
			out = append(out, vs.Name)
		}
		return nil
	})
	return out
}

func family(name string, exported map[string]bool) bool {
	if exported[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && exported[base] {
			return true
		}
	}
	return false
}

func TestMetricsAreFoundInTheSource(t *testing.T) {
	names := exported(t)
	for _, want := range []string{"syncgate_syncer_commits_total", "syncgate_outbox_owed_reports", "syncgate_leader", "syncgate_lead_time_seconds"} {
		if !names[want] {
			t.Errorf("the source scan missed %s (found %d names)", want, len(names))
		}
	}
}

func TestPrometheusRuleParsesAndUsesOnlyExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "deploy/monitoring/prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var obj struct {
		Kind string          `json:"kind"`
		Spec json.RawMessage `json:"spec"`
	}
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	if obj.Kind != "PrometheusRule" {
		t.Fatalf("kind %q", obj.Kind)
	}
	spec, err := yaml.JSONToYAML(obj.Spec)
	if err != nil {
		t.Fatal(err)
	}
	p := promql.NewParser(promql.Options{})
	groups, errs := rulefmt.Parse(spec, false, model.UTF8Validation, p, nil)
	for _, err := range errs {
		t.Errorf("rule file: %v", err)
	}
	names := exported(t)
	var alerts []string
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			for _, m := range metricsOf(t, p, r.Expr) {
				if !family(m, names) {
					t.Errorf("alert %s reads %s, which syncgate does not export", r.Alert, m)
				}
			}
		}
	}
	sort.Strings(alerts)
	want := []string{"SyncgateCommitFailed", "SyncgateCommitNotFinal", "SyncgateFetchStale", "SyncgateLeaderLost", "SyncgateReportsUndelivered"}
	if strings.Join(alerts, ",") != strings.Join(want, ",") {
		t.Errorf("alerts %v, want %v", alerts, want)
	}
}

func TestDashboardUsesOnlyExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "deploy/monitoring/dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Panels) == 0 {
		t.Fatal("no panels")
	}
	p := promql.NewParser(promql.Options{})
	names := exported(t)
	for _, panel := range d.Panels {
		if len(panel.Targets) == 0 {
			t.Errorf("panel %q has no query", panel.Title)
		}
		for _, target := range panel.Targets {
			ms := metricsOf(t, p, target.Expr)
			if len(ms) == 0 {
				t.Errorf("panel %q: %q reads no metric", panel.Title, target.Expr)
			}
			for _, m := range ms {
				if !family(m, names) {
					t.Errorf("panel %q reads %s, which syncgate does not export", panel.Title, m)
				}
			}
		}
	}
}

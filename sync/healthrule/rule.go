// Package healthrule judges the health of kinds kstatus cannot (custom
// resources without standard conditions) by CEL expressions, as Flux's
// healthCheckExprs do: per apiVersion and kind, an expression saying the
// object is current and one saying it failed, over the object's top-level
// fields (metadata, spec, status, and any other).
package healthrule

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// Rule is one kind's health, as written in the settings.
type Rule struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Current is true when the object is healthy; required.
	Current string `json:"current"`
	// Failed is true when it cannot become so; optional.
	Failed string `json:"failed,omitempty"`
}

// Status is a verdict.
type Status int

const (
	InProgress Status = iota
	Current
	Failed
	// Error: an expression could not be evaluated on this object (a field
	// it reads is missing, a type it did not expect).
	Error
)

// Verdict is what a rule says of one object.
type Verdict struct {
	Status Status
	// Message says why, naming the expression that decided.
	Message string
}

type compiled struct {
	rule            Rule
	current, failed cel.Program
}

// Rules are compiled rules by kind. The zero value and nil judge nothing.
type Rules struct {
	byKind map[schema.GroupVersionKind]*compiled
}

// fields are the variables an expression may read: the object's top-level
// fields, as Flux offers them.
var fields = []string{"apiVersion", "kind", "metadata", "spec", "status", "data"}

// Parse reads rules from YAML or JSON (a list of Rule) and compiles them.
// Its error is one line naming the rule and what is wrong.
func Parse(text string) (*Rules, error) {
	if strings.TrimSpace(text) == "" {
		return &Rules{}, nil
	}
	var rules []Rule
	if err := yaml.UnmarshalStrict([]byte(text), &rules); err != nil {
		return nil, fmt.Errorf("not a list of {apiVersion, kind, current, failed}: %s", oneLine(err.Error()))
	}
	return Compile(rules)
}

// Compile checks and compiles rules: each needs an apiVersion, a kind and
// a current expression, at most one rule per kind, and every expression
// must compile to a bool.
func Compile(rules []Rule) (*Rules, error) {
	var opts []cel.EnvOption
	for _, f := range fields {
		opts = append(opts, cel.Variable(f, cel.DynType))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, err
	}
	out := &Rules{byKind: map[schema.GroupVersionKind]*compiled{}}
	for i, r := range rules {
		name := fmt.Sprintf("rule %d (%s %s)", i+1, r.APIVersion, r.Kind)
		gv, err := schema.ParseGroupVersion(r.APIVersion)
		if err != nil || r.APIVersion == "" || r.Kind == "" {
			return nil, fmt.Errorf("%s: needs an apiVersion and a kind", name)
		}
		gvk := gv.WithKind(r.Kind)
		if _, dup := out.byKind[gvk]; dup {
			return nil, fmt.Errorf("%s: a second rule for the same kind", name)
		}
		if strings.TrimSpace(r.Current) == "" {
			return nil, fmt.Errorf("%s: needs a current expression", name)
		}
		c := &compiled{rule: r}
		if c.current, err = program(env, r.Current); err != nil {
			return nil, fmt.Errorf("%s: current: %w", name, err)
		}
		if strings.TrimSpace(r.Failed) != "" {
			if c.failed, err = program(env, r.Failed); err != nil {
				return nil, fmt.Errorf("%s: failed: %w", name, err)
			}
		}
		out.byKind[gvk] = c
	}
	return out, nil
}

func program(env *cel.Env, expr string) (cel.Program, error) {
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, errors.New(oneLine(iss.Err().Error()))
	}
	if !ast.OutputType().IsExactType(types.BoolType) && !ast.OutputType().IsExactType(types.DynType) {
		return nil, fmt.Errorf("%q is a %s, not a bool", expr, ast.OutputType())
	}
	return env.Program(ast, cel.CostLimit(1_000_000))
}

// Len is the number of kinds with a rule.
func (r *Rules) Len() int {
	if r == nil {
		return 0
	}
	return len(r.byKind)
}

// Covers tells whether a rule judges kind gk, in any of its versions.
func (r *Rules) Covers(gk schema.GroupKind) bool {
	if r == nil {
		return false
	}
	for gvk := range r.byKind {
		if gvk.GroupKind() == gk {
			return true
		}
	}
	return false
}

// Judge says what the rule of u's kind makes of u; false when no rule
// covers its kind. Failed is evaluated first: an object both failed and
// current is failed.
func (r *Rules) Judge(u *unstructured.Unstructured) (Verdict, bool) {
	if r == nil {
		return Verdict{}, false
	}
	c, ok := r.byKind[u.GroupVersionKind()]
	if !ok {
		return Verdict{}, false
	}
	vars := map[string]any{}
	for _, f := range fields {
		if v, ok := u.Object[f]; ok {
			vars[f] = v
		}
	}
	if c.failed != nil {
		failed, err := eval(c.failed, vars)
		if err != nil {
			return Verdict{Error, fmt.Sprintf("health rule %q: %v", c.rule.Failed, err)}, true
		}
		if failed {
			return Verdict{Failed, fmt.Sprintf("health rule: %s", c.rule.Failed)}, true
		}
	}
	current, err := eval(c.current, vars)
	switch {
	case err != nil:
		return Verdict{Error, fmt.Sprintf("health rule %q: %v", c.rule.Current, err)}, true
	case current:
		return Verdict{Current, ""}, true
	}
	return Verdict{InProgress, fmt.Sprintf("health rule: not yet %s", c.rule.Current)}, true
}

func eval(p cel.Program, vars map[string]any) (bool, error) {
	out, _, err := p.Eval(vars)
	if err != nil {
		return false, errors.New(oneLine(err.Error()))
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("gave %v, not a bool", out.Value())
	}
	return b, nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

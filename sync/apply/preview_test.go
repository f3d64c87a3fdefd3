package apply_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/apply"
)

func secret(ns, name, password string) string {
	return "apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: " + ns + "}\nstringData: {password: " + password + ", user: admin}\n"
}

// A preview names what a commit would create, change (field by field,
// server defaults aside) and prune, shows no Secret value, and writes
// nothing.
func TestPreviewWritesNothing(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	res, err := e.applier.Apply(ctx, e.ns, objects(t,
		deployment(e.ns, "web", "registry.example.com/web:1"),
		configMap(e.ns, "old", "1"),
		configMap(e.ns, "same", "1"),
		secret(e.ns, "db", "hunter2"),
	), nil)
	require.NoError(t, err)
	e.counter.Reset()

	next := objects(t,
		strings.Replace(deployment(e.ns, "web", "registry.example.com/web:2"), "replicas: 2", "replicas: 3", 1),
		configMap(e.ns, "same", "1"),
		configMap(e.ns, "new", "x"),
		secret(e.ns, "db", "correct-horse"),
	)
	plan, err := e.applier.Preview(ctx, e.ns, next, res.Inventory)
	require.NoError(t, err)
	require.Zero(t, e.counter.Counts().Mutating, "a preview writes nothing")
	require.NotZero(t, e.counter.Counts().DryRun)

	require.Len(t, plan.Created, 1)
	require.Equal(t, "new", plan.Created[0].Object.Name)
	require.Equal(t, []apply.ObjectRef{ref("", "ConfigMap", e.ns, "old")}, plan.Pruned)
	require.Equal(t, 1, plan.Unchanged)
	require.Len(t, plan.Changed, 2)
	byName := map[string][]apply.FieldChange{}
	for _, c := range plan.Changed {
		byName[c.Object.Name] = c.Fields
	}
	var paths []string
	for _, f := range byName["web"] {
		paths = append(paths, f.String())
	}
	// The server's defaults (strategy, terminationGracePeriodSeconds, ...)
	// and the quantity "0.5" stored as "500m" are no change.
	require.ElementsMatch(t, []string{
		"spec.replicas: 2 → 3",
		`spec.template.spec.containers[name=app].image: "registry.example.com/web:1" → "registry.example.com/web:2"`,
	}, paths)
	require.Equal(t, []apply.FieldChange{{Path: "data.password", Op: "change", Hidden: true}}, byName["db"])
	for _, c := range plan.Created {
		for _, f := range c.Fields {
			require.NotContains(t, f.To, "correct-horse")
		}
	}

	// Without changes, the preview is empty and sends nothing at all.
	e.counter.Reset()
	again, err := e.applier.Apply(ctx, e.ns, next, res.Inventory)
	require.NoError(t, err)
	e.counter.Reset()
	plan, err = e.applier.Preview(ctx, e.ns, next, again.Inventory)
	require.NoError(t, err)
	require.Zero(t, plan.Total())
	require.Equal(t, 4, plan.Unchanged)
	require.Zero(t, e.counter.Counts().Total)
}

// A value of the wrong type is refused by the dry run, naming the object
// and the field, and nothing is written.
func TestPreviewRefusalNamesObjectAndField(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.counter.Reset()
	_, err := e.applier.Preview(ctx, e.ns, objects(t,
		strings.Replace(deployment(e.ns, "web", "registry.example.com/web:1"), "replicas: 2", `replicas: "three"`, 1),
		configMap(e.ns, "fine", "1"),
	), nil)
	var ve *apply.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Objects, 1)
	require.Equal(t, "web", ve.Objects[0].Object.Name)
	require.Contains(t, ve.Objects[0].Err.Error(), "spec.replicas")
	require.Zero(t, e.counter.Counts().Mutating)
}

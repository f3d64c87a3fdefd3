package deployment_test

import (
	"strings"
	"testing"
	"text/template"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/deployment"
)

func TestNaming(t *testing.T) {
	w := deployment.Where{Cluster: "prod", Namespace: "web"}
	n, err := deployment.NewNaming("", "")
	require.NoError(t, err)
	require.Equal(t, "prod/web", n.Environment(w))
	require.Empty(t, n.URL(w))

	n, err = deployment.NewNaming(`{{if eq .Namespace "web"}}production{{else}}{{.Cluster}}-{{.Namespace}}{{end}}`, "https://{{.Namespace}}.{{.Cluster}}.example.com")
	require.NoError(t, err)
	require.Equal(t, "production", n.Environment(w))
	require.Equal(t, "prod-api", n.Environment(deployment.Where{Cluster: "prod", Namespace: "api"}))
	require.Equal(t, "https://web.prod.example.com", n.URL(w))

	env, url, err := n.Of("", status.Update{Cluster: "prod", Namespace: "api"})
	require.NoError(t, err)
	require.Equal(t, "prod-api", env)
	require.Equal(t, "https://api.prod.example.com", url)
}

// TestNamingAsTextTemplate: every template the naming takes gives what
// text/template gives, for each place.
func TestNamingAsTextTemplate(t *testing.T) {
	places := []deployment.Where{
		{Cluster: "prod", Namespace: "web"},
		{Cluster: "prod", Namespace: "api"},
		{Cluster: "staging", Namespace: "payments-eu"},
		{Cluster: "", Namespace: ""},
		{Cluster: "eu west/1", Namespace: "a&b=c?d"},
	}
	for _, text := range []string{
		deployment.DefaultEnvironment,
		`{{if eq .Namespace "web"}}production{{else}}{{.Cluster}}/{{.Namespace}}{{end}}`,
		`https://{{.Namespace}}.{{.Cluster}}.example.com`,
		`{{if eq .Namespace "web" "api"}}public{{else if ne .Cluster "prod"}}test{{else}}internal{{end}}`,
		`{{if and (eq .Cluster "prod") (not (eq .Namespace "api"))}}p{{else}}q{{end}}`,
		`{{if or (eq .Namespace "api") (eq .Cluster "staging")}}x{{else}}y{{end}}`,
		`{{or .Cluster "local"}}/{{and .Cluster .Namespace}}/{{or "" ""}}`,
		`{{and (eq .Cluster "prod") (eq .Namespace "web")}} {{or false (eq .Namespace "api")}}`,
		`{{with .Namespace}}{{.}}@{{$.Cluster}}{{else}}none{{end}}`,
		`{{with eq .Namespace "web"}}{{.}}{{else with .Cluster}}{{.}}{{else}}nothing{{end}}`,
		`{{with $}}{{.Namespace}}{{end}} {{$.Cluster}} {{.}} {{$}}`,
		`{{if .Namespace}}{{.Namespace}}{{end}}{{if not .Cluster}}no cluster{{end}}`,
		`{{printf "%s-%s" .Cluster .Namespace}} {{printf "%q %v %d" .Namespace .Cluster (len .Namespace)}} {{printf "%d" .Cluster}}`,
		`{{.Namespace | printf "ns-%s"}} {{.Namespace | eq "web"}} {{"x" | printf "%s%s" .Cluster}} {{.Cluster | len | printf "%03d"}}`,
		`{{len .Namespace}} {{if gt (len .Namespace) 3}}long{{else}}short{{end}} {{if ge (len .Cluster) 4}}4+{{end}}`,
		`{{if lt .Namespace "m"}}a-l{{else}}m-z{{end}} {{le .Cluster "prod"}} {{gt .Cluster "prod"}} {{ge .Cluster "prod"}} {{ne 1 2}}`,
		`{{if 0}}a{{else}}b{{end}} {{if 0x10}}c{{end}} {{eq 'a' 97}} {{eq true (eq .Cluster "prod")}} {{-3}} {{1_000}}`,
		"{{- /* a comment */ -}}\n  {{ .Cluster -}} / {{- .Namespace }}\n",
		`{{print .Cluster 1 2 true}} {{print}}{{println .Namespace "x"}} {{(.Namespace)}} {{("x")}} {{(printf "%s" .Cluster)}}`,
		`{{"quoted \"text\""}} {{` + "`raw`" + `}} {{true}} {{false}}`,
		`{{printf "%v"}} {{printf "%s" 3 4}}`,
		`{{if and .Cluster (eq .Namespace "web")}}a{{else}}b{{end}} {{if or (eq .Namespace "api") .Cluster}}c{{end}}`,
		`{{and .Cluster (eq .Namespace "web")}} {{or .Namespace 0}} {{not (or .Cluster false)}} {{and . .Cluster}} {{or 0 "" false}}`,
		`{{print (and 1 .Namespace) 2}} {{printf "%v-%s" (or .Cluster 7) .Namespace}} {{and (or .Cluster 1) (or .Namespace true)}}`,
		`{{with or .Cluster true}}{{.}}/{{$.Namespace}}{{end}} {{with and .Cluster 0}}x{{else}}y{{end}} {{or .Cluster 1 | print}}`,
		`https://example.com/?ns={{urlquery .Namespace}}&c={{.Cluster | urlquery}} {{urlquery .Cluster "a b" 3 true}} {{urlquery}}`,
		`{{urlquery .}} {{urlquery (or .Cluster 1)}} {{urlquery "x+y" "/"}} {{urlquery (len .Namespace)}} {{print .Cluster | urlquery}}`,
	} {
		for _, w := range places {
			want, err := textTemplate(text, w)
			require.NoError(t, err, text)
			// The URL, which may be empty: the name's would refuse some.
			n, err := deployment.NewNaming("", text)
			require.NoError(t, err, text)
			require.Equal(t, want, n.URL(w), "%s for %+v", text, w)
		}
	}
}

func textTemplate(text string, w deployment.Where) (string, error) {
	t, err := template.New("environment").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, w); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// TestNamingRefused: what the naming cannot take is refused at start-up in
// one line that names it, including what text/template would refuse only
// when the branch that holds it runs.
func TestNamingRefused(t *testing.T) {
	for _, tc := range []struct{ name, url, err string }{
		{name: "{{.Cluster", err: "the environment template: template: environment:1: unclosed action"},
		{name: "{{if false}}x{{end}}", err: "gives an empty name"},
		{url: "{{.Nope}}", err: "the environment URL template: environment URL:1:2: there is no field .Nope"},
		{name: `{{if eq .Namespace "web"}}web{{else}}{{.Team}}{{end}}`, err: "environment:1:39: there is no field .Team"},
		{name: "{{.Cluster.Name}}", err: "can't evaluate field Name in type string"},
		{name: "{{with .Namespace}}{{.Cluster}}{{end}}", err: "can't evaluate field Cluster in type string"},
		{name: "{{range .Namespace}}x{{end}}", err: "{{range}} is not supported"},
		{name: `{{template "x"}}`, err: "{{template}} is not supported"},
		{name: `{{define "x"}}a{{end}}{{.Cluster}}`, err: "{{define}} and {{block}} are not supported"},
		{name: `{{block "x" .}}a{{end}}`, err: "{{define}} and {{block}} are not supported"},
		{name: `{{define "environment"}}x{{end}}`, err: "{{define}} and {{block}} are not supported"},
		{name: `{{define "environment"}}x{{end}} `, err: "{{define}} and {{block}} are not supported"},
		{url: `{{define "environment URL"}}x{{end}}`, err: "{{define}} and {{block}} are not supported"},
		{name: "{{index .Namespace 0}}", err: "environment:1:2: the function index is not supported"},
		{name: `{{.Namespace | html}}`, err: "the function html is not supported"},
		{name: "{{lower .Namespace}}", err: `function "lower" not defined`},
		{name: "{{$x := .Namespace}}{{$x}}", err: "variables ($x) are not supported"},
		{name: "{{with $x := .Namespace}}{{$x}}{{end}}", err: "variables ($x) are not supported"},
		{name: `{{if eq .Namespace "web"}}{{eq .Namespace 3}}{{end}}x`, err: "eq: incompatible types for comparison (string and int)"},
		{name: "{{eq .Namespace}}", err: "eq: wrong number of args: want at least 2 got 1"},
		{name: `{{ne .Namespace "a" "b"}}`, err: "ne: wrong number of args: want 2 got 3"},
		{name: "{{lt true false}}", err: "lt: invalid type for comparison (bool)"},
		{name: "{{eq . $}}", err: "eq: invalid type for comparison (deployment.Where)"},
		{name: "{{len true}}", err: "len: len of type bool"},
		{name: "{{printf 3}}", err: "printf: the format is not a string"},
		{name: `{{eq (and .Namespace true) true}}`, err: "eq: invalid type for comparison (and/or of different types)"},
		{name: `{{if ne "x" (or .Namespace 1)}}x{{end}}`, err: "ne: invalid type for comparison (and/or of different types)"},
		{name: `{{lt (or .Namespace 1) (or .Namespace 1)}}`, err: "lt: invalid type for comparison (and/or of different types)"},
		{name: `{{len (or .Namespace 1)}}`, err: "len: len of type and/or of different types"},
		{name: `{{printf (or .Namespace 1) 1}}`, err: "printf: the format is not a string"},
		{name: `{{with or .Namespace true}}{{.Cluster}}{{end}}`, err: "can't evaluate field Cluster in type and/or of different types"},
		{name: `{{with and . .Namespace}}{{.Cluster}}{{end}}`, err: "can't evaluate field Cluster in type and/or of different types"},
		{name: "{{eq 1.5 1.5}}", err: "the number 1.5 is not supported: only integers are"},
		{name: "{{eq 1e3 1000}}", err: "the number 1e3 is not supported"},
		{name: "{{99999999999999999999}}", err: "99999999999999999999"},
		{name: "{{.Namespace 1}}", err: "can't give argument to non-function .Namespace"},
		{name: `{{"x" | .Namespace}}`, err: "can't give argument to non-function .Namespace"},
		{name: `{{(.Namespace).Foo}}`, err: "(.Namespace).Foo is not supported"},
		{name: `{{eq .Namespace nil}}`, err: "nil is not supported"},
	} {
		t.Run(tc.name+tc.url, func(t *testing.T) {
			_, err := deployment.NewNaming(tc.name, tc.url)
			require.ErrorContains(t, err, tc.err)
			require.NotContains(t, err.Error(), "\n")
		})
	}
}

package deployment

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/syncgate/syncgate/status"
)

// DefaultEnvironment names a namespace's environment <cluster>/<namespace>.
const DefaultEnvironment = "{{.Cluster}}/{{.Namespace}}"

// Naming turns a cluster and namespace into an environment name and, when
// configured, the environment's URL. Both are Go templates over
// {{.Cluster}} and {{.Namespace}}, so a name can be set per namespace:
//
//	{{if eq .Namespace "web"}}production{{else}}{{.Cluster}}/{{.Namespace}}{{end}}
type Naming struct {
	name, url *template.Template
}

// Where is what the templates see.
type Where struct{ Cluster, Namespace string }

// NewNaming parses the templates: name empty means DefaultEnvironment, url
// empty means no environment URL. A template that does not parse, names a
// field that does not exist, or yields an empty name is refused here, not
// at the first report.
func NewNaming(name, url string) (*Naming, error) {
	if strings.TrimSpace(name) == "" {
		name = DefaultEnvironment
	}
	n := &Naming{}
	var err error
	if n.name, err = parse("environment", name); err != nil {
		return nil, err
	}
	if strings.TrimSpace(url) != "" {
		if n.url, err = parse("environment URL", url); err != nil {
			return nil, err
		}
	}
	sample := Where{Cluster: "prod", Namespace: "web"}
	env, err := n.Environment(sample)
	if err != nil {
		return nil, err
	}
	if env == "" {
		return nil, errors.New("the environment template gives an empty name for cluster prod, namespace web")
	}
	if _, err := n.URL(sample); err != nil {
		return nil, err
	}
	return n, nil
}

func parse(what, text string) (*template.Template, error) {
	t, err := template.New(what).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("the %s template: %w", what, err)
	}
	return t, nil
}

// Environment is the environment name for w, spaces around it trimmed.
func (n *Naming) Environment(w Where) (string, error) {
	return run(n.name, w)
}

// URL is the environment URL for w, or "" when none is configured.
func (n *Naming) URL(w Where) (string, error) {
	if n.url == nil {
		return "", nil
	}
	return run(n.url, w)
}

func run(t *template.Template, w Where) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, w); err != nil {
		return "", fmt.Errorf("the %s template: %w", t.Name(), err)
	}
	return strings.TrimSpace(b.String()), nil
}

// Of is the environment of u's namespace on cluster (the reporter's
// configured one, or u's) and its URL. A template that cannot be run is a
// permanent refusal: retrying changes nothing.
func (n *Naming) Of(cluster string, u status.Update) (env, url string, err error) {
	if cluster, err = status.ClusterOf(cluster, u); err != nil {
		return "", "", err
	}
	w := Where{Cluster: cluster, Namespace: u.Namespace}
	if env, err = n.Environment(w); err != nil {
		return "", "", status.Permanent(err)
	}
	if url, err = n.URL(w); err != nil {
		return "", "", status.Permanent(err)
	}
	return env, url, nil
}

package deployment

import (
	"errors"
	"strings"

	"github.com/syncgate/syncgate/status"
)

// DefaultEnvironment names a namespace's environment <cluster>/<namespace>.
const DefaultEnvironment = "{{.Cluster}}/{{.Namespace}}"

// Naming turns a cluster and namespace into an environment name and, when
// configured, the environment's URL. Both are Go templates over
// {{.Cluster}} and {{.Namespace}}, so a name can be set per namespace:
//
//	{{if eq .Namespace "web"}}production{{else}}{{.Cluster}}/{{.Namespace}}{{end}}
//
// They are evaluated here (environment_template.go), not by text/template.
type Naming struct {
	name, url *compiled
}

// Where is what the templates see.
type Where struct{ Cluster, Namespace string }

// NewNaming compiles the templates: name empty means DefaultEnvironment,
// url empty means no environment URL. A template that does not parse, uses
// what is not supported, names a field that does not exist, or yields an
// empty name is refused here, not at the first report.
func NewNaming(name, url string) (*Naming, error) {
	if strings.TrimSpace(name) == "" {
		name = DefaultEnvironment
	}
	n := &Naming{}
	var err error
	if n.name, err = compile("environment", name); err != nil {
		return nil, err
	}
	if strings.TrimSpace(url) != "" {
		if n.url, err = compile("environment URL", url); err != nil {
			return nil, err
		}
	}
	if n.Environment(Where{Cluster: "prod", Namespace: "web"}) == "" {
		return nil, errors.New("the environment template gives an empty name for cluster prod, namespace web")
	}
	return n, nil
}

// Environment is the environment name for w, spaces around it trimmed.
func (n *Naming) Environment(w Where) string { return n.name.execute(w) }

// URL is the environment URL for w, or "" when none is configured.
func (n *Naming) URL(w Where) string {
	if n.url == nil {
		return ""
	}
	return n.url.execute(w)
}

// Of is the environment of u's namespace on cluster (the reporter's
// configured one, or u's) and its URL.
func (n *Naming) Of(cluster string, u status.Update) (env, url string, err error) {
	if cluster, err = status.ClusterOf(cluster, u); err != nil {
		return "", "", err
	}
	w := Where{Cluster: cluster, Namespace: u.Namespace}
	return n.Environment(w), n.URL(w), nil
}

package benchenv

import (
	"slices"
	"strings"
)

// List is a flag of comma-separated values (-scenarios one,many;
// -env K=V,K=V). Given, it replaces the default it was set to.
type List []string

func (l *List) String() string { return strings.Join(*l, ",") }

// Set takes the flag's value.
func (l *List) Set(v string) error {
	*l = nil
	if v != "" {
		*l = strings.Split(v, ",")
	}
	return nil
}

// Has says whether v is in the list.
func (l List) Has(v string) bool { return slices.Contains(l, v) }

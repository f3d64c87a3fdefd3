package deadcode_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/deadcode"
)

// A dump as the linker writes it: every symbol reached once, from the
// symbol that reached it, marks after either name.
const dump = `# example.com/cmd/agent
_ -> _rt0_amd64_linux
_ -> go:main.inittasks
_rt0_amd64_linux -> main.main
main.main -> example.com/pages.Render
main.main -> go:string."a -> b"
example.com/pages.Render -> type:*example.com/pages.Page <UsedInIface>
example.com/pages.Render -> text/template.(*Template).Execute
text/template.(*Template).Execute -> text/template.(*state).evalField <ReflectMethod>
text/template.(*state).evalField <ReflectMethod> -> reflect.Value.MethodByName
type:*example.com/pages.Page <UsedInIface> -> example.com/pages.(*Page).Check
example.com/pages.(*Page).Check -> example.com/check.callByName <UsedInIface><ReflectMethod>
`

func TestRead(t *testing.T) {
	deps, err := deadcode.Read(strings.NewReader(dump))
	require.NoError(t, err)
	require.Equal(t, []string{"text/template.(*state).evalField", "example.com/check.callByName"}, deps.Marked(deadcode.ReflectMethod))
	require.Equal(t, []string{"_", "_rt0_amd64_linux", "main.main", "example.com/pages.Render",
		"text/template.(*Template).Execute", "text/template.(*state).evalField"}, deps.Path("text/template.(*state).evalField"))
	require.Equal(t, []string{"_", "_rt0_amd64_linux", "main.main", "example.com/pages.Render", "type:*example.com/pages.Page",
		"example.com/pages.(*Page).Check", "example.com/check.callByName"}, deps.Path("example.com/check.callByName"))
	require.Equal(t, []string{"_", "_rt0_amd64_linux", "main.main", `go:string."a -> b"`}, deps.Path(`go:string."a -> b"`))
	require.Nil(t, deps.Path("main.unused"))

	_, err = deadcode.Read(strings.NewReader("# example.com/cmd/agent\n"))
	require.Error(t, err, "a build that printed no dump")

	// A mark written in a way not known here is not taken for no mark.
	_, err = deadcode.Read(strings.NewReader("_ -> main.main\nmain.main -> example.com/check.callByName <ReflectMethod><UsedInIface>\n"))
	require.ErrorContains(t, err, "<ReflectMethod> appears on 1 line(s) of the linker's dump")
}

// TestAgentKeepsDeadCodeElimination: nothing the agent links calls a method
// through reflection by a name the linker cannot see, or the linker would
// keep every exported method of every type the agent links (text/template's
// executor made the binary 82.7 MB instead of 46.5, and the idle agent 15 MB
// larger). Built as the image builds it (deploy/Dockerfile; keep in step).
func TestAgentKeepsDeadCodeElimination(t *testing.T) {
	deps, err := deadcode.Link(context.Background(), "../..", []string{"CGO_ENABLED=0"},
		"./cmd/syncgate", "-trimpath", "-tags", "nomsgpack")
	require.NoError(t, err)
	var found strings.Builder
	for _, sym := range deps.Marked(deadcode.ReflectMethod) {
		found.WriteString("\n\n" + sym + " calls methods through reflection, reached by:\n\t" +
			strings.Join(deps.Path(sym), "\n\t-> "))
	}
	if found.Len() > 0 {
		t.Fatalf("./cmd/syncgate links a call of methods by a name the linker cannot see, "+
			"so it keeps every exported method of every type linked (go build -ldflags=-dumpdep ./cmd/syncgate | grep '<ReflectMethod>'); "+
			"the first is the likeliest cause of the others:%s", found.String())
	}
}

package deadcode

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ReflectMethod is the linker's mark on a function that calls a method
// through reflection by a name it cannot see (reflect.Value.Method, or
// MethodByName with a name not constant). Once one is reachable the linker
// keeps every exported method of every reachable type, used or not:
// text/template's executor, through reflect.Value.MethodByName, made the
// agent's binary 82.7 MB instead of 46.5.
const ReflectMethod = "<ReflectMethod>"

// root is where the dump's chains start: the symbols the linker keeps
// whatever happens (the entry point, the init tasks).
const root = "_"

// Deps is a program's reachability as the linker found it: for each symbol,
// those it made reachable.
type Deps struct {
	index map[string]int32
	names []string // symbol, by index
	attrs []string // the marks the dump gives it ("<UsedInIface>", ReflectMethod, both)
	next  [][]int32
}

// Link links pkg with -ldflags=-dumpdep in dir, output discarded, with the
// flags given (-tags, -trimpath) and env added to the environment, and
// reads the dump. It first reads the directories of the packages pkg
// links, and the go.mod and go.sum of their modules: go test keys its
// cache on the files and directories a test opens, and sees none that
// the go command it starts reads, so a test's cached result would
// otherwise outlive a change to what pkg links.
func Link(ctx context.Context, dir string, env []string, pkg string, flags ...string) (*Deps, error) {
	env = append(os.Environ(), env...)
	if err := readSources(ctx, dir, env, pkg, flags); err != nil {
		return nil, err
	}
	args := append([]string{"build", "-ldflags=-dumpdep", "-o", os.DevNull}, flags...)
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Dir = dir
	cmd.Env = env
	// The linker writes the dump to its standard output, which go build
	// passes on as its own messages.
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(cmd.Args[1:], " "), err, tail(out.String()))
	}
	return Read(&out)
}

// readSources lists the packages pkg links outside the standard library
// (the toolchain's version is already in go test's cache key) and reads
// their directories (each file's name, size and time), the go.mod of
// their modules and the main module's go.sum.
func readSources(ctx context.Context, dir string, env []string, pkg string, flags []string) error {
	const format = `{{if not .Standard}}{{.Dir}}{{with .Module}}{{"\n"}}{{.GoMod}}` +
		`{{if .Main}}{{"\n"}}{{.Dir}}/go.sum{{end}}{{end}}{{end}}`
	args := append([]string{"list", "-deps", "-f", format}, flags...)
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(cmd.Args[1:], " "), err, tail(stderr.String()))
	}
	read := map[string]bool{}
	for _, path := range strings.Split(string(out), "\n") {
		if path == "" || read[path] {
			continue
		}
		read[path] = true
		f, err := os.Open(path)
		switch {
		case err == nil:
			f.Close()
		case errors.Is(err, fs.ErrNotExist) && filepath.Base(path) == "go.sum":
			// A module that requires nothing has none; go test
			// records that too.
		default:
			return fmt.Errorf("read the sources of %s: %w", pkg, err)
		}
	}
	if len(read) == 0 {
		return fmt.Errorf("go %s listed no package", strings.Join(cmd.Args[1:], " "))
	}
	return nil
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

// Read reads a dump: lines "A -> B", each name possibly followed by " "
// and its marks; other lines (go build's "# package") are skipped.
func Read(r io.Reader) (*Deps, error) {
	d := &Deps{index: map[string]int32{}}
	d.symbol(root)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	written := 0 // lines that hold ReflectMethod, as a mark or not
	for sc.Scan() {
		if strings.Contains(sc.Text(), ReflectMethod) {
			written++
		}
		// A is never a string constant (those reach nothing), so the
		// first arrow splits: B may be one holding " -> ".
		from, to, ok := strings.Cut(sc.Text(), " -> ")
		if !ok {
			continue
		}
		a, b := d.symbol(from), d.symbol(to)
		d.next[a] = append(d.next[a], b)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the linker's dump: %w", err)
	}
	if len(d.next[0]) == 0 {
		return nil, fmt.Errorf("the linker's dump has no edge from %s", root)
	}
	// A linker that writes its marks otherwise must not pass for one
	// that found none.
	if written > 0 && len(d.Marked(ReflectMethod)) == 0 {
		return nil, fmt.Errorf("%s appears on %d line(s) of the linker's dump, none as a mark read here (%q)", ReflectMethod, written, marks)
	}
	return d, nil
}

// marks are the suffixes the linker writes after a name, longest first.
var marks = []string{" <UsedInIface>" + ReflectMethod, " " + ReflectMethod, " <UsedInIface>"}

func (d *Deps) symbol(name string) int32 {
	attrs := ""
	for _, m := range marks {
		if strings.HasSuffix(name, m) {
			name, attrs = strings.TrimSuffix(name, m), m[1:]
			break
		}
	}
	i, ok := d.index[name]
	if !ok {
		i = int32(len(d.names))
		d.index[name] = i
		d.names = append(d.names, name)
		d.attrs = append(d.attrs, "")
		d.next = append(d.next, nil)
	}
	if attrs != "" {
		d.attrs[i] = attrs
	}
	return i
}

// Marked are the symbols that carry mark, in the order the linker reached
// them: the first is the likeliest cause of the others (a method kept for
// a reflective call can itself call through reflection).
func (d *Deps) Marked(mark string) []string {
	var out []string
	for i, a := range d.attrs {
		if strings.Contains(a, mark) {
			out = append(out, d.names[i])
		}
	}
	return out
}

// Path is the shortest chain by which the linker reached sym, from its
// roots ("_") to sym, or nil when it did not reach it.
func (d *Deps) Path(sym string) []string {
	target, ok := d.index[sym]
	if !ok {
		return nil
	}
	from := make([]int32, len(d.names))
	for i := range from {
		from[i] = -1
	}
	from[0] = 0
	queue := []int32{0}
	for len(queue) > 0 && from[target] < 0 {
		at := queue[0]
		queue = queue[1:]
		for _, n := range d.next[at] {
			if from[n] < 0 {
				from[n] = at
				queue = append(queue, n)
			}
		}
	}
	if from[target] < 0 {
		return nil
	}
	var path []string
	for at := target; at != 0; at = from[at] {
		path = append(path, d.names[at])
	}
	path = append(path, root)
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return path
}

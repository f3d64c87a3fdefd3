package buildproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/syncgate/syncgate/sync/render/internal/sandbox"
	"github.com/syncgate/syncgate/sync/render/internal/wire"
)

// Serve runs a kustomize build when this process was started by a
// Renderer to run one, and then reports ran with the code to exit with.
// Any other process goes on. A build program's main calls it first thing
// (tests that render kustomizations: TestMain), as
//
//	if code, ran := buildproc.Serve(); ran {
//		os.Exit(code)
//	}
func Serve() (code int, ran bool) {
	limit, ok := os.LookupEnv(wire.Env)
	if !ok {
		return 0, false
	}
	return serveBuild(limit), true
}

// serveBuild is the build process: confine, then build the directory the
// parent names over the parent's view of the repository, and send the
// result.
func serveBuild(limits string) int {
	mem, cpu, _ := strings.Cut(limits, "/")
	memory, err := strconv.ParseInt(mem, 10, 64)
	ms, err2 := strconv.ParseInt(cpu, 10, 64)
	if err = errors.Join(err, err2); err == nil {
		err = sandbox.Enter(memory, time.Duration(ms)*time.Millisecond)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "render sandbox:", err)
		return wire.ExitNoSandbox
	}
	c := wire.NewConn(os.NewFile(3, "from-parent"), os.NewFile(4, "to-parent"))
	// kustomize's http.Client has no transport of its own. The sandbox
	// already makes any connection fail; this names the URL it wanted.
	http.DefaultTransport = refusing{c}

	typ, dir, err := c.Read(func(byte) int64 { return wire.MaxRequest })
	if err == nil && typ == wire.Hello {
		// Confined as for a build: the answer says a build can run.
		if c.Send(wire.Hello, []byte(wire.Protocol)) != nil {
			return wire.ExitProtocol
		}
		return 0
	}
	if err != nil || typ != wire.Build {
		return wire.ExitProtocol
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsNone // nothing outside the repository exists
	opts.PluginConfig = types.DisabledPluginConfig()   // builtins only, helm off
	res, err := runKustomize(opts, newRepoFS(remote{c}), string(dir))
	if err != nil {
		msg := err.Error()
		if len(msg) > wire.MaxRequest/2 {
			msg = msg[:wire.MaxRequest/2] + " …"
		}
		_ = c.Send(wire.Failed, []byte(msg))
		return 0
	}
	for i, rs := range res.Resources() {
		// JSON loses the order of fields; a SOPS MAC covers it.
		if rs.GetKind() == "Secret" && rs.Field("sops") != nil {
			y, err := rs.AsYAML()
			if err == nil {
				err = c.Send(wire.Source, y)
			}
			if err != nil {
				return 0
			}
		}
		j, err := rs.MarshalJSON()
		if err != nil {
			_ = c.Send(wire.Failed, fmt.Appendf(nil, "resource %d of the build: %v", i+1, err))
			return 0
		}
		if err := c.Send(wire.Object, j); err != nil {
			return 0 // the parent stopped listening
		}
	}
	_ = c.Send(wire.Done, nil)
	return 0
}

// runKustomize turns a panic inside kustomize into an error: a malformed
// commit must fail, not take the process down.
func runKustomize(opts *krusty.Options, fsys filesys.FileSystem, dir string) (res resmap.ResMap, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("kustomize panicked: %v", p)
		}
	}()
	return krusty.MakeKustomizer(opts).Run(fsys, dir)
}

// refusing is the build's http transport: every request fails, and the
// parent learns which URL was wanted.
type refusing struct{ c *wire.Conn }

func (t refusing) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.c.Send(wire.Fetch, []byte(req.URL.String())); err != nil {
		return nil, err
	}
	return nil, errors.New("no network access during a render")
}

// remote is the build's view of the repository: requests to the parent.
type remote struct{ c *wire.Conn }

func (r remote) list(dir string) ([]wire.Entry, error) {
	typ, payload, err := r.c.Ask(wire.List, []byte(dir), 1<<30)
	if err != nil {
		return nil, err
	}
	if typ == wire.Error {
		return nil, failed(payload)
	}
	var entries []wire.Entry
	err = json.Unmarshal(payload, &entries)
	return entries, err
}

func (r remote) read(file string) ([]byte, error) {
	typ, payload, err := r.c.Ask(wire.Read, []byte(file), 1<<30)
	if err != nil {
		return nil, err
	}
	if typ == wire.Error {
		return nil, failed(payload)
	}
	return payload, nil
}

func failed(payload []byte) error {
	var f wire.Failure
	_ = json.Unmarshal(payload, &f)
	if f.Missing {
		return fmt.Errorf("%s: %w", f.Msg, fs.ErrNotExist)
	}
	return errors.New(f.Msg)
}

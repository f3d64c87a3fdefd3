package render

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"

	"github.com/syncgate/syncgate/sync/render/internal/sandbox"
)

// A kustomize build runs in a child process of the program, the same
// executable started again, which confines itself before it reads a byte
// of the commit (internal/sandbox): it cannot open a socket or start a
// program, and its heap cannot grow past Limits.BuildMemory. kustomize
// loads http(s) paths and clones git bases wherever a path appears
// (resources, generator and transformer configs, openapi, replacements),
// with its own http.Client and the git binary; no option of krusty turns
// that off, so the build gets no network instead. The child sees the
// repository only through the parent, one request per directory listing
// or file read, so the parent reads, measures and counts everything the
// build reads, and can stop it at any time by killing it.

// sandboxEnv carries the build's limits to the child, as
// "<memory bytes>/<processor milliseconds>"; its presence makes RunSandbox
// run a build.
const sandboxEnv = "SYNCGATE_RENDER_SANDBOX"

// Exit codes of a build process that could not run a build.
const (
	exitNoSandbox = 3 // it could not confine itself
	exitProtocol  = 4 // the parent spoke nonsense
)

// sandboxReady is set when this program's main called RunSandbox: only
// then does the executable run a build when started as one.
var sandboxReady atomic.Bool

// RunSandbox runs a kustomize build when this process was started by a
// Renderer to run one, and then reports ran with the code to exit with.
// Any other process only records that it can start builds, and goes on:
// main calls it first thing (tests: TestMain), as
//
//	if code, ran := render.RunSandbox(); ran {
//		os.Exit(code)
//	}
//
// A program that does not refuses every kustomization (not the commit's
// fault: the error is not a *Error).
func RunSandbox() (code int, ran bool) {
	limit, ok := os.LookupEnv(sandboxEnv)
	if !ok {
		sandboxReady.Store(true)
		return 0, false
	}
	return serveBuild(limit), true
}

// Frame types. A frame is its type, its payload's length (4 bytes, big
// endian) and the payload.
const (
	// parent → child
	frameBuild   = 'B' // the directory to build
	frameEntries = 'E' // a directory listing, JSON []entry
	frameData    = 'D' // a file's content
	frameError   = 'F' // a request failed, JSON failure
	// child → parent
	frameList   = 'L' // list a directory: its path
	frameRead   = 'R' // read a file: its path
	frameObject = 'O' // one resource the build made, JSON
	frameSource = 'S' // the next object's YAML in its order, for an encrypted Secret
	frameFetch  = 'N' // a URL the build tried to fetch
	frameFailed = 'X' // the build failed: kustomize's error
	frameDone   = 'Z' // the build is over and every object sent
)

type entry struct {
	Name string `json:"n"`
	Dir  bool   `json:"d,omitempty"`
}

type failure struct {
	Missing bool   `json:"missing,omitempty"`
	Msg     string `json:"msg"`
}

// maxRequest bounds a frame that is not an object or a file.
const maxRequest = 64 << 10

// conn is one end of the frame pipe pair.
type conn struct {
	mu sync.Mutex
	r  *bufio.Reader
	w  io.Writer
}

var errFrameTooLarge = errors.New("frame too large")

func (c *conn) send(typ byte, payload []byte) error {
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	if _, err := c.w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := c.w.Write(payload)
	return err
}

// read reads a frame; max bounds its payload by its type. A payload over
// the bound is left unread, and its length returned with errFrameTooLarge.
func (c *conn) read(max func(typ byte) int64) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := int64(binary.BigEndian.Uint32(hdr[1:]))
	if n > max(hdr[0]) {
		return hdr[0], nil, fmt.Errorf("%w: %d bytes", errFrameTooLarge, n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(c.r, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

// serveBuild is the child: confine, then build the directory the parent
// names over the parent's view of the repository, and send the result.
func serveBuild(limits string) int {
	mem, cpu, _ := strings.Cut(limits, "/")
	memory, err := strconv.ParseInt(mem, 10, 64)
	ms, err2 := strconv.ParseInt(cpu, 10, 64)
	if err = errors.Join(err, err2); err == nil {
		err = sandbox.Enter(memory, time.Duration(ms)*time.Millisecond)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "render sandbox:", err)
		return exitNoSandbox
	}
	c := &conn{r: bufio.NewReader(os.NewFile(3, "from-parent")), w: os.NewFile(4, "to-parent")}
	// kustomize's http.Client has no transport of its own. The sandbox
	// already makes any connection fail; this names the URL it wanted.
	http.DefaultTransport = refusing{c}

	typ, dir, err := c.read(func(byte) int64 { return maxRequest })
	if err != nil || typ != frameBuild {
		return exitProtocol
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsNone // nothing outside the repository exists
	opts.PluginConfig = types.DisabledPluginConfig()   // builtins only, helm off
	res, err := runKustomize(opts, newRepoFS(c), string(dir))
	if err != nil {
		msg := err.Error()
		if len(msg) > maxRequest/2 {
			msg = msg[:maxRequest/2] + " …"
		}
		_ = c.send(frameFailed, []byte(msg))
		return 0
	}
	for i, rs := range res.Resources() {
		// JSON loses the order of fields; a SOPS MAC covers it.
		if rs.GetKind() == "Secret" && rs.Field("sops") != nil {
			y, err := rs.AsYAML()
			if err == nil {
				err = c.send(frameSource, y)
			}
			if err != nil {
				return 0
			}
		}
		j, err := rs.MarshalJSON()
		if err != nil {
			_ = c.send(frameFailed, fmt.Appendf(nil, "resource %d of the build: %v", i+1, err))
			return 0
		}
		if err := c.send(frameObject, j); err != nil {
			return 0 // the parent stopped listening
		}
	}
	_ = c.send(frameDone, nil)
	return 0
}

// refusing is the build's http transport: every request fails, and the
// parent learns which URL was wanted.
type refusing struct{ c *conn }

func (t refusing) RoundTrip(req *http.Request) (*http.Response, error) {
	t.c.mu.Lock()
	err := t.c.send(frameFetch, []byte(req.URL.String()))
	t.c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return nil, errors.New("no network access during a render")
}

// remote is the child's view of the repository: requests to the parent.
type remote struct{ c *conn }

func (r remote) ask(typ byte, p string) (byte, []byte, error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if err := r.c.send(typ, []byte(p)); err != nil {
		return 0, nil, err
	}
	return r.c.read(func(byte) int64 { return 1 << 30 })
}

func (r remote) list(dir string) ([]entry, error) {
	typ, payload, err := r.ask(frameList, dir)
	if err != nil {
		return nil, err
	}
	if typ == frameError {
		return nil, failed(payload)
	}
	var entries []entry
	err = json.Unmarshal(payload, &entries)
	return entries, err
}

func (r remote) read(file string) ([]byte, error) {
	typ, payload, err := r.ask(frameRead, file)
	if err != nil {
		return nil, err
	}
	if typ == frameError {
		return nil, failed(payload)
	}
	return payload, nil
}

func failed(payload []byte) error {
	var f failure
	_ = json.Unmarshal(payload, &f)
	if f.Missing {
		return fmt.Errorf("%s: %w", f.Msg, fs.ErrNotExist)
	}
	return errors.New(f.Msg)
}

// process is a running build, seen from the parent.
type process struct {
	cmd     *exec.Cmd
	conn    *conn
	output  *output
	closers []io.Closer

	mu     sync.Mutex
	killed string // why the parent killed it, if it did
}

// startBuild starts this executable as a build process.
func startBuild(lim Limits) (*process, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	childIn, parentOut, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	parentIn, childOut, err := os.Pipe()
	if err != nil {
		childIn.Close()
		parentOut.Close()
		return nil, err
	}
	// The child's ends are the child's alone once it runs.
	defer childIn.Close()
	defer childOut.Close()
	out := &output{max: 2 << 10}
	cmd := exec.Command(exe, "render-sandbox")
	// Nothing of the parent's environment: no credentials, no proxies,
	// no PATH to find git or helm on.
	cmd.Env = []string{fmt.Sprintf("%s=%d/%d", sandboxEnv, lim.BuildMemory, lim.BuildTime.Milliseconds()), "GOMAXPROCS=2", "GOTRACEBACK=none"}
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{childIn, childOut} // fds 3 and 4
	cmd.Stdout, cmd.Stderr = out, out
	sandbox.Prepare(cmd)
	if err := cmd.Start(); err != nil {
		parentIn.Close()
		parentOut.Close()
		return nil, err
	}
	return &process{cmd: cmd, conn: &conn{r: bufio.NewReader(parentIn), w: parentOut}, output: out,
		closers: []io.Closer{parentIn, parentOut}}, nil
}

// kill ends the build for reason, once.
func (p *process) kill(reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.killed == "" {
		p.killed = reason
	}
	_ = p.cmd.Process.Kill()
}

// wait ends the build if it still runs, and reaps it.
func (p *process) wait() error {
	p.mu.Lock()
	if p.killed == "" {
		_ = p.cmd.Process.Kill() // a no-op once it exited
	}
	p.mu.Unlock()
	err := p.cmd.Wait()
	for _, c := range p.closers {
		c.Close()
	}
	return err
}

func (p *process) killReason() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killed
}

// output keeps the beginning and the end of what a build process writes:
// a fatal error's message comes first, kustomize's last words last.
type output struct {
	mu         sync.Mutex
	head, tail []byte
	max        int // of each
	dropped    bool
}

func (o *output) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(b)
	if room := o.max - len(o.head); room > 0 {
		take := min(room, len(b))
		o.head = append(o.head, b[:take]...)
		b = b[take:]
	}
	o.tail = append(o.tail, b...)
	if over := len(o.tail) - o.max; over > 0 {
		o.tail = append(o.tail[:0], o.tail[over:]...)
		o.dropped = true
	}
	return n, nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	gap := ""
	if o.dropped {
		gap = "\n…\n"
	}
	return string(o.head) + gap + string(o.tail)
}

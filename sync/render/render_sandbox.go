package render

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/syncgate/syncgate/sync/render/internal/sandbox"
	"github.com/syncgate/syncgate/sync/render/internal/wire"
)

// A kustomize build runs in a child process, the build program
// (cmd/syncgate-render, package buildproc), which confines itself before
// it reads a byte of the commit (internal/sandbox): it cannot open a socket
// or start a program, and its heap cannot grow past Limits.BuildMemory.
// kustomize loads http(s) paths and clones git bases wherever a path
// appears (resources, generator and transformer configs, openapi,
// replacements), with its own http.Client and the git binary; no option of
// krusty turns that off, so the build gets no network instead. The child
// sees the repository only through the parent, one request per directory
// listing or file read, so the parent reads, measures and counts
// everything the build reads, and can stop it at any time by killing it.
// Being a program of its own, it keeps kustomize out of the agent's
// executable, whose pages stay resident as long as the agent runs.

// ProgramName is the build program's file name; by default a Renderer
// starts the one in its own executable's directory.
const ProgramName = "syncgate-render"

// buildProgram is opts.BuildProgram, or ProgramName beside this executable.
func buildProgram(opts Options) (string, error) {
	if opts.BuildProgram != "" {
		return opts.BuildProgram, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(exe), ProgramName), nil
}

// process is a running build, seen from the parent.
type process struct {
	cmd     *exec.Cmd
	conn    *wire.Conn
	output  *output
	closers []io.Closer

	mu     sync.Mutex
	killed string // why the parent killed it, if it did
	ended  bool   // its group killed and the parent's ends closed
}

// waitDelay bounds how long reaping a build waits, once it has ended, for
// its output pipe to close: a process that escaped its group may hold it.
const waitDelay = time.Second

// startBuild starts the build program.
func startBuild(program string, lim Limits) (*process, error) {
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
	cmd := exec.Command(program)
	// Nothing of the parent's environment: no credentials, no proxies,
	// no PATH to find git or helm on.
	cmd.Env = []string{fmt.Sprintf("%s=%d/%d", wire.Env, lim.BuildMemory, lim.BuildTime.Milliseconds()), "GOMAXPROCS=2", "GOTRACEBACK=none"}
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{childIn, childOut} // fds 3 and 4
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = waitDelay
	sandbox.Prepare(cmd)
	if err := cmd.Start(); err != nil {
		parentIn.Close()
		parentOut.Close()
		return nil, err
	}
	return &process{cmd: cmd, conn: wire.NewConn(parentIn, parentOut), output: out,
		closers: []io.Closer{parentIn, parentOut}}, nil
}

// kill ends the build for reason, the first given.
func (p *process) kill(reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.killed == "" {
		p.killed = reason
	}
	p.end()
}

// end kills the build's process group, with whatever it started that holds
// its pipes, and closes the parent's ends, so that no read waits on them;
// once, and before the build is reaped, when its group id cannot have been
// reused. p.mu is held.
func (p *process) end() {
	if p.ended {
		return
	}
	p.ended = true
	_ = sandbox.Kill(p.cmd.Process)
	for _, c := range p.closers {
		c.Close()
	}
}

// wait ends the build if it still runs, and reaps it.
func (p *process) wait() error {
	p.mu.Lock()
	p.end()
	p.mu.Unlock()
	return p.cmd.Wait()
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

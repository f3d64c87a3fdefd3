// Package wire is what a Renderer and its kustomize build process
// (package buildproc, run as cmd/syncgate-render) share: the environment
// that starts a build, the exit codes of a build that could not run, and
// the frames they exchange over a pipe pair.
package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"sync"
)

// Env carries the build's limits to the build process, as
// "<memory bytes>/<processor milliseconds>"; its presence makes a program
// serve a build.
const Env = "SYNCGATE_RENDER_SANDBOX"

// Exit codes of a build process that could not run a build.
const (
	ExitNoSandbox = 3 // it could not confine itself
	ExitProtocol  = 4 // the parent spoke nonsense
)

// Frame types. A frame is its type, its payload's length (4 bytes, big
// endian) and the payload.
const (
	// parent → build
	Hello   = 'H' // the Protocol the parent speaks; the build answers with its own and ends
	Build   = 'B' // the directory to build
	Entries = 'E' // a directory listing, JSON []Entry
	Data    = 'D' // a file's content
	Error   = 'F' // a request failed, JSON Failure
	// build → parent
	List   = 'L' // list a directory: its path
	Read   = 'R' // read a file: its path
	Object = 'O' // one resource the build made, JSON
	Source = 'S' // the next object's YAML in its order, for an encrypted Secret
	Fetch  = 'N' // a URL the build tried to fetch
	Failed = 'X' // the build failed: kustomize's error
	Done   = 'Z' // the build is over and every object sent
)

// Protocol is the version of these frames and of Env. A build program
// answers Hello with its own, so that an agent started beside a program
// of another version stops at start-up instead of failing every build.
const Protocol = "1"

// Entry is one name of a directory listing.
type Entry struct {
	Name string `json:"n"`
	Dir  bool   `json:"d,omitempty"`
}

// Failure is why a request failed.
type Failure struct {
	Missing bool   `json:"missing,omitempty"`
	Msg     string `json:"msg"`
}

// MaxRequest bounds a frame that is not an object or a file.
const MaxRequest = 64 << 10

// ErrFrameTooLarge is a frame over the bound its reader set.
var ErrFrameTooLarge = errors.New("frame too large")

// Conn is one end of the pipe pair.
type Conn struct {
	mu sync.Mutex // one request and its answer at a time
	r  *bufio.Reader
	w  io.Writer
}

// NewConn reads frames from r and writes them to w.
func NewConn(r io.Reader, w io.Writer) *Conn { return &Conn{r: bufio.NewReader(r), w: w} }

// Send writes one frame.
func (c *Conn) Send(typ byte, payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.send(typ, payload)
}

// Ask sends a request and reads its answer, whose payload may be up to max.
func (c *Conn) Ask(typ byte, payload []byte, max int64) (byte, []byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.send(typ, payload); err != nil {
		return 0, nil, err
	}
	return c.Read(func(byte) int64 { return max })
}

func (c *Conn) send(typ byte, payload []byte) error {
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	if _, err := c.w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := c.w.Write(payload)
	return err
}

// Read reads a frame; max bounds its payload by its type. A payload over
// the bound is left unread, and its length returned with ErrFrameTooLarge.
// Frames are read by one goroutine.
func (c *Conn) Read(max func(typ byte) int64) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := int64(binary.BigEndian.Uint32(hdr[1:]))
	if n > max(hdr[0]) {
		return hdr[0], nil, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(c.r, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

// Clean is a path as the frames carry it: absolute, slash-separated, the
// repository's root being "/".
func Clean(p string) string {
	if !path.IsAbs(p) {
		p = "/" + p
	}
	return path.Clean(filepath.ToSlash(p))
}

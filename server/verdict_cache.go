package server

import (
	"encoding/json"
	"strings"
	"sync"

	"github.com/syncgate/syncgate/server/internal/transport"
)

// verdictCache holds the answers computed since the last Version change.
// It is keyed by the change channel, so a change empties it: every waiter
// on one commit and set of namespaces shares one evaluation, one encoded
// body and one wire response per change.
type verdictCache struct {
	mu      sync.Mutex
	gen     <-chan struct{}
	entries map[string]*cachedVerdict
}

type cachedVerdict struct {
	once sync.Once
	a    answer
	body []byte

	sumOnce sync.Once
	sum     string

	wireOnce sync.Once
	resp     []byte
}

// summary is the answer's Summary, computed once.
func (v *cachedVerdict) summary() string {
	v.sumOnce.Do(func() { v.sum = v.a.Summary() })
	return v.sum
}

// wire is the complete HTTP response for a final answer, built once.
func (v *cachedVerdict) wire() []byte {
	v.wireOnce.Do(func() { v.resp = transport.Response(codeOf(v.a), 0, v.body) })
	return v.resp
}

func verdictKey(sha string, namespaces []string) string {
	return sha + "|" + strings.Join(namespaces, ",")
}

// get returns the verdict for sha in namespaces as of generation gen,
// computing it once.
func (c *verdictCache) get(gen <-chan struct{}, sha string, namespaces []string, eval func(string, []string) answer) *cachedVerdict {
	key := verdictKey(sha, namespaces)
	c.mu.Lock()
	if c.gen != gen {
		c.gen, c.entries = gen, map[string]*cachedVerdict{}
	}
	e := c.entries[key]
	if e == nil {
		e = &cachedVerdict{}
		c.entries[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		e.a = eval(sha, namespaces)
		e.body, _ = json.Marshal(e.a)
	})
	return e
}

package server

import (
	"encoding/json"
	"strings"
	"sync"
)

// verdictCache holds the answers computed since the last Version change.
// It is keyed by the change channel, so a change empties it.
type verdictCache struct {
	mu      sync.Mutex
	gen     <-chan struct{}
	entries map[string]*cachedVerdict
}

type cachedVerdict struct {
	once sync.Once
	a    answer
	body []byte
}

// get returns the answer for sha in namespaces as of generation gen,
// computing it once.
func (c *verdictCache) get(gen <-chan struct{}, sha string, namespaces []string, eval func(string, []string) answer) (answer, []byte) {
	key := sha + "|" + strings.Join(namespaces, ",")
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
	return e.a, e.body
}

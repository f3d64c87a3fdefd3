package gitsource

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// graph holds every commit the Source has seen (the branch's history, and
// commits a force-push dropped), with generation numbers so ancestry walks
// stop early. Commits never change, so nodes are only ever added.
//
// Only loaders (holding Source.store) add nodes, under Source.mu; readers
// hold Source.mu for reading.
//
// 32 bytes a commit in nodes, the parents of all in one slice, and the
// map from sha to node: 50,000 commits hold about 4 MB.
type graph struct {
	ids     map[plumbing.Hash]int32
	nodes   []node
	parents []int32 // node i's are parents[nodes[i].first:][:nodes[i].n]

	// Of the current head: which nodes are on the branch, and those nodes
	// sorted by sha for prefix lookups.
	head     int32
	onBranch []bool
	sorted   []int32
}

type node struct {
	hash  plumbing.Hash
	gen   int32 // 1 for a root, else 1 + the highest parent's
	first int32 // where its parents start in graph.parents
	n     int32 // how many parents
}

// parentsOf are node id's parents (not to be changed).
func (g *graph) parentsOf(id int32) []int32 {
	n := g.nodes[id]
	return g.parents[n.first : n.first+n.n]
}

func newGraph() *graph { return &graph{ids: map[plumbing.Hash]int32{}, head: -1} }

var fullSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

func parseHash(sha string) (plumbing.Hash, bool) {
	sha = strings.ToLower(sha)
	if !fullSHA.MatchString(sha) {
		return plumbing.ZeroHash, false
	}
	return plumbing.NewHash(sha), true
}

// collect reads from the store the commits reachable from h that the graph
// does not have yet: hash -> parent hashes. Needs Source.store held.
func (g *graph) collect(get func(plumbing.Hash) (*object.Commit, error), h plumbing.Hash) (map[plumbing.Hash][]plumbing.Hash, error) {
	found := map[plumbing.Hash][]plumbing.Hash{}
	queue := []plumbing.Hash{h}
	for len(queue) > 0 {
		cur := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if _, ok := g.ids[cur]; ok {
			continue
		}
		if _, ok := found[cur]; ok {
			continue
		}
		c, err := get(cur)
		if err != nil {
			return nil, fmt.Errorf("gitsource: read commit %s: %w", cur, err)
		}
		found[cur] = c.ParentHashes
		queue = append(queue, c.ParentHashes...)
	}
	return found, nil
}

// insert adds the collected commits, parents before children. Needs
// Source.mu held for writing.
func (g *graph) insert(found map[plumbing.Hash][]plumbing.Hash) {
	if len(found) == 0 {
		return
	}
	roots := make([]plumbing.Hash, 0, len(found))
	for h := range found {
		roots = append(roots, h)
	}
	sort.Slice(roots, func(i, j int) bool { return bytes.Compare(roots[i][:], roots[j][:]) < 0 })
	const entered, done = 1, 2
	state := make(map[plumbing.Hash]uint8, len(found))
	for _, root := range roots {
		stack := []plumbing.Hash{root}
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			switch state[top] {
			case 0:
				state[top] = entered
				for _, p := range found[top] {
					if _, isNew := found[p]; isNew && state[p] == 0 {
						stack = append(stack, p)
					}
				}
				continue
			case entered:
				state[top] = done
				g.add(top, found[top])
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func (g *graph) add(h plumbing.Hash, parents []plumbing.Hash) {
	n := node{hash: h, gen: 1, first: int32(len(g.parents)), n: int32(len(parents))}
	for _, p := range parents {
		id := g.ids[p] // present: parents are added first
		g.parents = append(g.parents, id)
		if gen := g.nodes[id].gen + 1; gen > n.gen {
			n.gen = gen
		}
	}
	g.ids[h] = int32(len(g.nodes))
	g.nodes = append(g.nodes, n)
}

// setHead marks the commits reachable from head as the branch. Needs
// Source.mu held for writing.
func (g *graph) setHead(head plumbing.Hash) {
	id := g.ids[head]
	on := make([]bool, len(g.nodes))
	var sorted []int32
	stack := []int32{id}
	on[id] = true
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		sorted = append(sorted, top)
		for _, p := range g.parentsOf(top) {
			if !on[p] {
				on[p] = true
				stack = append(stack, p)
			}
		}
	}
	sort.Slice(sorted, func(i, j int) bool {
		return bytes.Compare(g.nodes[sorted[i]].hash[:], g.nodes[sorted[j]].hash[:]) < 0
	})
	g.head, g.onBranch, g.sorted = id, on, slices.Clip(sorted)
}

// reaches reports whether a is b or one of its ancestors. Walks from b, not
// below a's generation. Needs Source.mu held.
func (g *graph) reaches(b, a int32) bool {
	if a == b {
		return true
	}
	target := g.nodes[a].gen
	if g.nodes[b].gen <= target {
		return false
	}
	seen := make([]bool, len(g.nodes))
	seen[b] = true
	stack := []int32{b}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range g.parentsOf(top) {
			if p == a {
				return true
			}
			if seen[p] || g.nodes[p].gen <= target {
				continue
			}
			seen[p] = true
			stack = append(stack, p)
		}
	}
	return false
}

// ancestors marks every ancestor of id, id included.
func (g *graph) ancestors(id int32) []bool {
	out := make([]bool, len(g.nodes))
	out[id] = true
	stack := []int32{id}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range g.parentsOf(top) {
			if !out[p] {
				out[p] = true
				stack = append(stack, p)
			}
		}
	}
	return out
}

// advance loads the history of head and makes it the branch.
func (s *Source) advance(branch string, head plumbing.Hash) error {
	s.store.Lock()
	defer s.store.Unlock()
	found, err := s.graph.collect(s.getCommit, head)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.graph.insert(found)
	s.graph.setHead(head)
	s.branch, s.head = branch, head.String()
	return nil
}

// getCommit needs s.store held.
func (s *Source) getCommit(h plumbing.Hash) (*object.Commit, error) {
	return object.GetCommit(s.repo.Storer, h)
}

// lookup finds sha in the graph, loading it (and its history) from the
// store when the graph does not have it yet.
func (s *Source) lookup(sha string) (int32, error) {
	h, ok := parseHash(sha)
	if !ok {
		return 0, fmt.Errorf("%w: %q is not a full sha", ErrUnknownRevision, sha)
	}
	s.mu.RLock()
	id, ok := s.graph.ids[h]
	s.mu.RUnlock()
	if ok {
		return id, nil
	}
	s.store.Lock()
	defer s.store.Unlock()
	found, err := s.graph.collect(s.getCommit, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return 0, fmt.Errorf("%w: %s", ErrUnknownRevision, sha)
	}
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.graph.insert(found)
	return s.graph.ids[h], nil
}

// OnBranch reports whether sha (a full sha) is the branch head or one of its
// ancestors.
func (s *Source) OnBranch(sha string) (bool, error) {
	h, ok := parseHash(sha)
	if !ok {
		return false, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.graph.ids[h]
	return ok && int(id) < len(s.graph.onBranch) && s.graph.onBranch[id], nil
}

// IsAncestor reports whether commit a is commit b or one of its ancestors.
// Both are full shas of commits in the clone (on the branch or not);
// ErrUnknownRevision otherwise. Answers come from the in-memory graph and
// are cached, since the gateway asks on every /wait.
func (s *Source) IsAncestor(a, b string) (bool, error) {
	if strings.EqualFold(a, b) {
		if _, ok := parseHash(a); ok {
			return true, nil
		}
	}
	ia, err := s.lookup(a)
	if err != nil {
		return false, err
	}
	ib, err := s.lookup(b)
	if err != nil {
		return false, err
	}
	if v, ok := s.ancestry.get(ia, ib); ok {
		return v, nil
	}
	s.mu.RLock()
	v := s.graph.reaches(ib, ia)
	s.mu.RUnlock()
	s.ancestry.put(ia, ib, v)
	return v, nil
}

var hexPrefix = regexp.MustCompile(`^[0-9a-f]{7,40}$`)

// Resolve turns 7 to 40 hex characters into the full sha of the one commit
// of the followed branch they start. Only the branch counts, so a commit a
// force-push dropped is unknown, as the gateway's contract wants.
func (s *Source) Resolve(prefix string) (string, error) {
	prefix = strings.ToLower(prefix)
	if !hexPrefix.MatchString(prefix) {
		return "", fmt.Errorf("%w: %q is not 7 to 40 hex characters", ErrUnknownRevision, prefix)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.graph
	return resolvePrefix(len(g.sorted), func(i int) string { return g.nodes[g.sorted[i]].hash.String() }, prefix)
}

// resolvePrefix finds the one sha of n sorted ones (the i-th is sha(i))
// that starts with prefix.
func resolvePrefix(n int, sha func(i int) string, prefix string) (string, error) {
	i := sort.Search(n, func(i int) bool { return sha(i) >= prefix })
	if i == n || !strings.HasPrefix(sha(i), prefix) {
		return "", fmt.Errorf("%w: no commit of the followed branch starts with %s", ErrUnknownRevision, prefix)
	}
	if i+1 < n && strings.HasPrefix(sha(i+1), prefix) {
		return "", fmt.Errorf("%w: %s matches %s and %s", ErrAmbiguousRevision, prefix, sha(i)[:12], sha(i + 1)[:12])
	}
	return sha(i), nil
}

// maxCommits bounds Commits' answer; the newest are kept.
const maxCommits = 1000

// Commits lists the first-parent chain of until, oldest first, down to but
// excluding since or the first commit since already contains (when since
// is not on that chain, e.g. after a force-push). At most 1000, the newest.
func (s *Source) Commits(since, until string) ([]string, error) {
	is, err := s.lookup(since)
	if err != nil {
		return nil, err
	}
	iu, err := s.lookup(until)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.graph
	var chain []int32 // until's first-parent chain, newest first
	met := false
	for id := iu; ; id = g.parentsOf(id)[0] {
		if id == is {
			met = true
			break
		}
		chain = append(chain, id)
		if g.nodes[id].n == 0 {
			break
		}
	}
	if !met {
		// since is not on the chain: stop at the first commit it contains.
		contained := g.ancestors(is)
		for i, id := range chain {
			if contained[id] {
				chain = chain[:i]
				break
			}
		}
	}
	if len(chain) > maxCommits {
		chain = chain[:maxCommits]
	}
	out := make([]string, len(chain))
	for i, id := range chain {
		out[len(chain)-1-i] = g.nodes[id].hash.String()
	}
	return out, nil
}

// ancestryCache remembers answers: ancestry between two commits never
// changes. Bounded; dropped whole when full.
type ancestryCache struct {
	mu sync.Mutex
	m  map[[2]int32]bool
}

const ancestryCacheSize = 1 << 14

func (c *ancestryCache) get(a, b int32) (bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[[2]int32{a, b}]
	return v, ok
}

func (c *ancestryCache) put(a, b int32, v bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= ancestryCacheSize {
		c.m = make(map[[2]int32]bool)
	}
	c.m[[2]int32{a, b}] = v
}

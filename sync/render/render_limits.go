package render

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"time"

	yamlv3 "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Limits bound what one Render may read, run and produce: a commit is
// untrusted input, so every resource it can make the renderer spend has a
// ceiling, and reaching one is a refusal (ErrTooLarge or ErrTooMany)
// naming the file, and the object when there is one. Zero fields take the
// value of DefaultLimits.
type Limits struct {
	// FileBytes bounds each file read.
	FileBytes int64
	// ReadBytes bounds the bytes of all files read, counted each time a
	// file is read: a kustomize build reading one file a hundred times
	// (a generator listing it a hundred times) pays a hundred times.
	ReadBytes int64
	// Expansion bounds what YAML aliases add when expanded, over every
	// file read: each node an alias repeats counts one plus the length of
	// its value. Plain YAML and every file a kustomize build reads
	// (resources, patches, generator and transformer configs,
	// kustomizations) are measured before they are parsed for use.
	Expansion int64
	// Documents bounds the YAML documents (a List's items each count) in
	// the files a kustomize build reads, each time read. kustomize's time
	// grows with the square of what it accumulates.
	Documents int
	// Kustomizations bounds the kustomization files a build loads, each
	// time one is reached (overlays, bases, components).
	Kustomizations int
	// Entries bounds the files and directories one render lists: each
	// directory of the namespace (once, for its YAML files and image pins)
	// and each listing a kustomize build asks for, each time.
	Entries int
	// TreeBytes bounds the bytes of git trees one render reads, when its
	// tree can be bounded so (gitsource's: LimitTreeBytes): each directory
	// walked through or listed counts once, cached or not, with what git
	// inflates to rebuild it when its tree is stored as a delta (its
	// bases). A tree is read under the lock every namespace reads the
	// commit through; a big monorepo's walk reads a few MB.
	TreeBytes int64
	// Objects bounds the objects one namespace renders, over ./<ns>/ and
	// ./<cluster>/<ns>/ merged (an object of the latter replacing one of
	// the former counts once): each is counted as it is decoded or built.
	Objects int
	// Nodes bounds what the agent decodes, over every object of one
	// namespace (plain YAML and a kustomize build's output alike): each
	// mapping entry and each sequence item, counted before the object is
	// decoded. A 1 MiB file of short keys decodes to 170,000 entries; 32
	// of them would take the agent's heap past its memory limit.
	Nodes int
	// KeyAttempts bounds the private-key operations that fail, decrypting
	// a render's encrypted Secrets, over every Secret of one namespace
	// (see KeyBudget): an age stanza or OpenPGP recipient packet tried
	// with an offered key that does not open it. A file SOPS wrote for an
	// offered key costs none however many Secrets hold one; a sops section
	// whose master keys all name an offered key costs one per key and
	// offered key that fails (sync/decrypt bounds each document's keys).
	// The operations that open a data key are bounded at Documents, and
	// all of them by KeyCost.
	KeyAttempts int
	// KeyCost bounds the processor time of the private-key operations of
	// one render, failing or not, in units of 0.25 to 0.27 ms of it: an
	// age or OpenPGP Curve25519 operation weighs 1, an RSA one KeyCostRSA
	// of its modulus (4 at 2048 bits, 32 at 4096). The default, 32,000,
	// opens 1,000 files for an RSA-4096 key, and the Documents (6,000) a
	// render reads for an RSA-2048 or age one; at most it is 6 to 9 s of
	// processor time (about 30 s of wall-clock time on 2 loaded cores),
	// where 6,000 files for an RSA-4096 key took 37 s of it (3 minutes).
	// A data key opened once is not paid for again in the render.
	KeyCost int
	// RenderBytes bounds what a kustomize build returns, as JSON. Plain
	// YAML renders what it reads, bounded by ReadBytes.
	RenderBytes int64
	// BuildMemory bounds the memory of the process a kustomize build runs
	// in: its data segment, the Go heap and the runtime's own, which
	// start at about 110 MiB before the build reads anything (RSS: 30 MiB).
	BuildMemory int64
	// BuildTime bounds the processor time of one kustomize build: the
	// kernel ends the process past it, however busy the machine is.
	BuildTime time.Duration
	// BuildWallTime bounds the wall-clock time of one kustomize build;
	// zero is four times BuildTime. A build past it still had processor
	// time left, so the machine was too busy to run it (or the process
	// was stuck): that is not the commit's fault, and the render fails
	// with ErrBuildTimedOut, not as a refusal, to be tried again.
	BuildWallTime time.Duration
	// Builds is how many kustomize builds one Renderer runs at once; the
	// others wait their turn.
	Builds int
}

// DefaultLimits are the bounds a zero Limits field takes. kustomize's
// accumulation is quadratic: 5,000 objects in one build took 25 s of
// processor time and 70 MiB resident; 3,000 took 5.4 s, a data segment of
// 147 MiB and 58 MiB resident.
var DefaultLimits = Limits{
	FileBytes:      1 << 20,
	ReadBytes:      32 << 20,
	Expansion:      1 << 20,
	Documents:      6000,
	Kustomizations: 500,
	Entries:        100_000,
	TreeBytes:      64 << 20,
	Objects:        5000,
	Nodes:          1_000_000,
	KeyAttempts:    512,
	KeyCost:        32_000,
	RenderBytes:    32 << 20,
	BuildMemory:    256 << 20,
	BuildTime:      60 * time.Second,
	Builds:         1,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	set := func(v *int64, def int64) {
		if *v <= 0 {
			*v = def
		}
	}
	seti := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.FileBytes, d.FileBytes)
	set(&l.ReadBytes, d.ReadBytes)
	set(&l.Expansion, d.Expansion)
	seti(&l.Documents, d.Documents)
	seti(&l.Kustomizations, d.Kustomizations)
	seti(&l.Entries, d.Entries)
	set(&l.TreeBytes, d.TreeBytes)
	seti(&l.Objects, d.Objects)
	seti(&l.Nodes, d.Nodes)
	seti(&l.KeyAttempts, d.KeyAttempts)
	seti(&l.KeyCost, d.KeyCost)
	set(&l.RenderBytes, d.RenderBytes)
	set(&l.BuildMemory, d.BuildMemory)
	if l.BuildTime <= 0 {
		l.BuildTime = d.BuildTime
	}
	if l.BuildWallTime <= 0 {
		l.BuildWallTime = 4 * l.BuildTime
	}
	seti(&l.Builds, d.Builds)
	return l
}

// budget is what one Render has left; every file is read through it.
type budget struct {
	lim  Limits
	tree fs.FS

	read      int64
	expansion int64
	documents int
	kusts     int
	entries   int
	objects   int
	nodes     int

	// layer is the directory being built: 0 for ./<ns>/, 1 for
	// ./<cluster>/<ns>/. base holds the keys (in namespace) layer 0
	// built, true once layer 1 replaced one.
	layer     int
	namespace string
	base      map[string]bool
}

func newBudget(tree fs.FS, lim Limits, namespace string) *budget {
	return &budget{lim: lim, tree: tree, namespace: namespace, base: map[string]bool{}}
}

// readFile reads a file of the tree: at most FileBytes, within what is
// left of ReadBytes and Expansion.
func (b *budget) readFile(file string) ([]byte, error) {
	data, _, err := b.readMeasured(file)
	return data, err
}

// readMeasured is readFile, also saying what the file's aliases add (nil:
// it has none).
func (b *budget) readMeasured(file string) ([]byte, *yamlMeasure, error) {
	f, err := b.tree.Open(file)
	if err != nil {
		return nil, nil, fileErr(file, err)
	}
	defer f.Close()
	max := b.lim.FileBytes
	if st, err := f.Stat(); err == nil && st.Size() > max {
		return nil, nil, fileErr(file, because(ErrTooLarge, "file of %d bytes, more than the limit of %d", st.Size(), max))
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, nil, fileErr(file, err)
	}
	if int64(len(data)) > max {
		return nil, nil, fileErr(file, because(ErrTooLarge, "file larger than the limit of %d bytes", max))
	}
	star := aliases(data)
	if err := b.charge(file, int64(len(data)), star); err != nil {
		return nil, nil, err
	}
	return data, star, nil
}

// aliases measures what data's aliases add; nil when it has none.
func aliases(data []byte) *yamlMeasure {
	if bytes.IndexByte(data, '*') < 0 { // no alias without a '*'
		return nil
	}
	m := measure(data, false)
	return &m
}

// charge counts a file read of size bytes whose aliases measure star (nil:
// none) against ReadBytes and Expansion.
func (b *budget) charge(file string, size int64, star *yamlMeasure) error {
	if b.read += size; b.read > b.lim.ReadBytes {
		return fileErr(file, because(ErrTooLarge,
			"reading this file takes the render past the limit of %d bytes read (files count each time they are read)", b.lim.ReadBytes))
	}
	if star != nil {
		return b.expand(file, *star)
	}
	return nil
}

// readForBuild reads a file a kustomize build asked for, also counting its
// documents and, for a kustomization, the load.
func (b *budget) readForBuild(file string) ([]byte, error) {
	if isKustomization(path.Base(file)) {
		if b.kusts++; b.kusts > b.lim.Kustomizations {
			return nil, fileErr(file, because(ErrTooMany,
				"the build loads more than %d kustomizations (each overlay, base and component, each time it is reached)", b.lim.Kustomizations))
		}
	}
	data, err := b.readFile(file)
	if err != nil {
		return nil, err
	}
	if b.documents += measure(data, true).documents; b.documents > b.lim.Documents {
		return nil, fileErr(file, because(ErrTooMany,
			"the build parses more than %d YAML documents (each time a file is read; List items count)", b.lim.Documents))
	}
	return data, nil
}

func (b *budget) expand(file string, m yamlMeasure) error {
	if m.cycle {
		return fileErr(file, because(ErrInvalid, "a YAML alias refers to a node that contains it"))
	}
	if b.expansion += m.expansion; b.expansion > b.lim.Expansion {
		return fileErr(file, because(ErrTooLarge,
			"YAML aliases here expand past the limit of %d (each node repeated counts one plus its value's length)", b.lim.Expansion))
	}
	return nil
}

// entryCounter is a tree that tells how many entries a directory has
// without listing them (gitsource's trees, and inputs' recorder over one).
type entryCounter interface {
	CountEntries(dir string) (int, error)
}

// list lists dir in name order, its entries counted against Entries: the
// directories the render reads (plain YAML, image pins) and every listing
// a build asks for, each time. A listing costs memory per entry even when
// the entries cost nothing else (empty files, or files no step reads), so
// where the tree can count a directory it is refused before it is listed.
// Errors name dir (fileErr).
func (b *budget) list(dir string) ([]fs.DirEntry, error) {
	c, counts := b.tree.(entryCounter)
	if counts {
		n, err := c.CountEntries(dir)
		if err != nil {
			return nil, fileErr(dir, err)
		}
		if err := b.listed(dir, n); err != nil {
			return nil, err
		}
	}
	entries, err := fs.ReadDir(b.tree, dir)
	switch {
	case err != nil:
		return nil, fileErr(dir, err)
	case counts:
		return entries, nil
	}
	return entries, b.listed(dir, len(entries))
}

func (b *budget) listed(dir string, n int) error {
	if b.entries += n; b.entries > b.lim.Entries {
		return fileErr(dir, because(ErrTooMany, "the render lists more than %d files and directories (each listing counts)", b.lim.Entries))
	}
	return nil
}

// produced counts object u, made from file, against Objects: what the
// namespace renders, ./<ns>/ and ./<cluster>/<ns>/ merged as overlay
// merges them. An object of layer 1 with the key of one of layer 0
// replaces it and is not charged again, once for each key of layer 0 (a
// second is charged, and overlay refuses it), so what both directories
// build stays within twice Objects. The first object past the limit is
// refused, before the rest of the namespace is decoded or built.
func (b *budget) produced(file string, u *unstructured.Unstructured) error {
	k := key(u, b.namespace)
	switch replaced, built := b.base[k]; {
	case b.layer == 0:
		b.base[k] = false
	case built && !replaced:
		b.base[k] = true
		return nil
	}
	if b.objects++; b.objects > b.lim.Objects {
		return objectErr(file, describe(u), because(ErrTooMany, "the namespace renders more than the limit of %d objects", b.lim.Objects))
	}
	return nil
}

type yamlMeasure struct {
	documents int
	expansion int64 // what aliases add when expanded
	cycle     bool
}

// measure parses data as YAML, with the parser kustomize uses, without
// expanding anything. Data that is not YAML measures what parsed before
// the error: whatever reads it fails the same way.
func measure(data []byte, documents bool) (m yamlMeasure) {
	defer func() {
		if recover() != nil { // the parser's own bug: the build meets it too
			m.documents++
		}
	}()
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for {
		var doc yamlv3.Node
		if err := dec.Decode(&doc); err != nil { // io.EOF at the end
			return m
		}
		if documents {
			m.documents += objectsIn(&doc)
		}
		s := sizer{memo: map[*yamlv3.Node]int64{}}
		_, added := s.size(&doc)
		if s.cycle {
			m.cycle = true
			return m
		}
		m.expansion = saturate(m.expansion + added)
	}
}

// objectsIn is how many resources a document can make: one, or a List's
// items.
func objectsIn(doc *yamlv3.Node) int {
	root := doc
	if root.Kind == yamlv3.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yamlv3.MappingNode {
		return 1
	}
	var kind string
	var items *yamlv3.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch root.Content[i].Value {
		case "kind":
			kind = root.Content[i+1].Value
		case "items":
			items = root.Content[i+1]
		}
	}
	if kind == "List" && items != nil && items.Kind == yamlv3.SequenceNode {
		return max(1, len(items.Content))
	}
	return 1
}

const saturated = int64(1) << 62

func saturate(n int64) int64 { return min(n, saturated) }

// sizer measures a node expanded: each node one plus its value's length.
type sizer struct {
	memo  map[*yamlv3.Node]int64 // expanded size of anchored nodes
	busy  map[*yamlv3.Node]bool
	cycle bool
}

// size returns the node's expanded size and how much of it aliases add.
func (s *sizer) size(n *yamlv3.Node) (total, added int64) {
	if n == nil || s.cycle {
		return 0, 0
	}
	if n.Kind == yamlv3.AliasNode {
		t := s.anchored(n.Alias)
		return t, t
	}
	total = 1 + int64(len(n.Value))
	for _, c := range n.Content {
		t, a := s.size(c)
		total, added = saturate(total+t), saturate(added+a)
	}
	if n.Anchor != "" {
		s.memo[n] = total
	}
	return total, added
}

// anchored is the expanded size of the node an alias names; one that is
// still being measured contains the alias.
func (s *sizer) anchored(n *yamlv3.Node) int64 {
	if t, ok := s.memo[n]; ok {
		return t
	}
	if s.busy == nil {
		s.busy = map[*yamlv3.Node]bool{}
	}
	if s.busy[n] {
		s.cycle = true
		return 0
	}
	s.busy[n] = true
	t, _ := s.size(n)
	delete(s.busy, n)
	s.memo[n] = t
	return t
}

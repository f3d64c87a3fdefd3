package flux

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// artifact is what source-controller would record in a source's
// status.artifact: where the tarball is, its digest and revision.
type artifact struct {
	Path, URL, Revision, Digest string
	Size                        int64
}

// tarball is files (path → content) as a gzipped tar, in path order, with
// fixed modes and times, so the same files give the same bytes.
func tarball(files map[string]string) ([]byte, error) {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range names {
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(files[name])); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ArtifactServer serves published tarballs on loopback, as
// source-controller's storage server does.
type ArtifactServer struct {
	ln  net.Listener
	srv *http.Server

	mu    sync.RWMutex
	blobs map[string][]byte // URL path → tarball
}

// StartArtifactServer listens on a free loopback port until Close.
func StartArtifactServer() (*ArtifactServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &ArtifactServer{ln: ln, blobs: map[string][]byte{}}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *ArtifactServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	b, ok := s.blobs[r.URL.Path]
	s.mu.RUnlock()
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

// publish stores files as the tarball of source name at revision (a
// git-style "<branch>@sha1:<sha>") and returns its artifact.
func (s *ArtifactServer) publish(name, revision string, files map[string]string) (artifact, error) {
	tgz, err := tarball(files)
	if err != nil {
		return artifact{}, err
	}
	sum := sha256.Sum256(tgz)
	digest := hex.EncodeToString(sum[:])
	rel := fmt.Sprintf("gitrepository/%s/%s/%s.tar.gz", SystemNamespace, name, digest[:16])
	s.mu.Lock()
	s.blobs["/"+rel] = tgz
	s.mu.Unlock()
	return artifact{
		Path:     rel,
		URL:      "http://" + s.ln.Addr().String() + "/" + rel,
		Revision: revision,
		Digest:   "sha256:" + digest,
		Size:     int64(len(tgz)),
	}, nil
}

// gitRevision is a GitRepository artifact's revision for branch at sha.
func gitRevision(branch, sha string) string {
	return branch + "@sha1:" + strings.ToLower(sha)
}

// Close stops serving.
func (s *ArtifactServer) Close() error { return s.srv.Close() }

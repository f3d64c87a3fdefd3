package decrypt

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SecretGetter reads the Secrets of one namespace (coreclient's Secrets,
// or client-go's typed client).
type SecretGetter interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*corev1.Secret, error)
}

// SecretSource reads the keys from a Secret at each render, parsing it
// again only when it changed, so new keys are used without a restart.
type SecretSource struct {
	client          SecretGetter
	namespace, name string

	mu      sync.Mutex
	version string
	keys    *Keys
	err     error
}

// NewSecretSource reads Secret namespace/name with client, which reads
// namespace's Secrets.
func NewSecretSource(client SecretGetter, namespace, name string) *SecretSource {
	return &SecretSource{client: client, namespace: namespace, name: name}
}

// Keys returns the Secret's keys. A Secret that does not exist, or holds
// no key or a key that does not parse, is a refusal (render.ErrDecrypt)
// of what needs it; a Secret that could not be read is trouble.
func (s *SecretSource) Keys(ctx context.Context) (*Keys, error) {
	sec, err := s.client.Get(ctx, s.name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, refuse("the decryption keys Secret %s/%s does not exist", s.namespace, s.name)
	case err != nil:
		return nil, fmt.Errorf("decryption keys Secret %s/%s: %w", s.namespace, s.name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec.ResourceVersion != s.version || s.version == "" {
		s.keys, s.err = ParseKeys(sec.Data)
		if s.err == nil && s.keys.Empty() {
			s.err = fmt.Errorf("holds no *%s or *%s entry", AgeSuffix, PGPSuffix)
		}
		s.version = sec.ResourceVersion
	}
	if s.err != nil {
		return nil, refuse("the decryption keys Secret %s/%s: %v", s.namespace, s.name, s.err)
	}
	return s.keys, nil
}

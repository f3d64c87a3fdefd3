package githubstatus

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v92/github"
)

// requestTimeout bounds one API call; the outbox retries.
const requestTimeout = 30 * time.Second

// NewTokenClient builds a client that authenticates with a token
// (GITHUB_TOKEN), on api.github.com or the API root apiURL.
func NewTokenClient(apiURL, token string) (*github.Client, error) {
	if token == "" {
		return nil, errors.New("githubstatus: the token is empty")
	}
	return newClient(apiURL, github.WithAuthToken(token))
}

// NewAppClient builds a client that authenticates as a GitHub App
// installation, with the App's private key read from keyFile (PEM).
func NewAppClient(apiURL string, appID, installationID int64, keyFile string) (*github.Client, error) {
	if appID == 0 || installationID == 0 || keyFile == "" {
		return nil, errors.New("githubstatus: a GitHub App needs its id, installation id and private key file")
	}
	tr, err := ghinstallation.NewKeyFromFile(http.DefaultTransport, appID, installationID, keyFile)
	if err != nil {
		return nil, fmt.Errorf("githubstatus: GitHub App key %s: %w", keyFile, err)
	}
	if apiURL != "" {
		tr.BaseURL = strings.TrimRight(apiURL, "/")
	}
	return newClient(apiURL, github.WithTransport(tr))
}

// NewClient builds a client for a GitHub App when appID is set, else for
// the token.
func NewClient(apiURL, token string, appID, installationID int64, keyFile string) (*github.Client, error) {
	if appID != 0 {
		return NewAppClient(apiURL, appID, installationID, keyFile)
	}
	if token == "" {
		return nil, errors.New("githubstatus: GITHUB_TOKEN or a GitHub App (id, installation id, key file) is required")
	}
	return NewTokenClient(apiURL, token)
}

// newClient points the client at apiURL used as given (GITHUB_API_URL):
// GitHub Enterprise roots end in /api/v3/ and go through
// WithEnterpriseURLs, which also sets the upload root; others, such as
// Gitea's /api/v1/, are kept as they are rather than having /api/v3/ added.
// The client's own rate-limit pre-checks are off: the outbox paces retries
// from the errors it returns.
func newClient(apiURL string, auth github.ClientOptionsFunc) (*github.Client, error) {
	opts := []github.ClientOptionsFunc{auth, github.WithTimeout(requestTimeout), github.WithDisableRateLimitCheck()}
	if apiURL != "" {
		root := strings.TrimRight(apiURL, "/") + "/"
		if strings.HasSuffix(root, "/api/v3/") {
			opts = append(opts, github.WithEnterpriseURLs(root, strings.TrimSuffix(root, "v3/")+"uploads/"))
		} else {
			opts = append(opts, github.WithURLs(&root, &root))
		}
	}
	c, err := github.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("githubstatus: %w", err)
	}
	return c, nil
}

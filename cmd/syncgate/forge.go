package main

import (
	"github.com/syncgate/syncgate/status"
)

// chooseForge picks the commit-status reporter: STATUS_PROVIDER when set,
// else from the repo host or the API URL configured.
func chooseForge(cfg *config) (status.Reporter, string, error) {
	return nil, "no GitHub or GitLab reporter is built into this version", nil
}

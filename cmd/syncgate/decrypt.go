package main

import (
	"strings"

	"github.com/syncgate/syncgate/coreclient"
	"github.com/syncgate/syncgate/sync/decrypt"
)

// decrypter decrypts SOPS-encrypted Secrets with the keys of SOPS_SECRET,
// read as syncgate itself at each render; without the setting, encrypted
// Secrets are refused.
func decrypter(cfg *config, core *coreclient.Client) *decrypt.Decryptor {
	if cfg.SOPSSecret == "" {
		return decrypt.New(nil, "SOPS_SECRET")
	}
	ns, name, _ := strings.Cut(cfg.SOPSSecret, "/")
	return decrypt.New(decrypt.NewSecretSource(core.Secrets(ns), ns, name), "SOPS_SECRET")
}

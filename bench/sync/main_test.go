package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKubectlMissingSkipsItsScenarios(t *testing.T) {
	dir := t.TempDir()
	kubectl := filepath.Join(dir, "kubectl")
	require.NoError(t, os.WriteFile(kubectl, []byte("#!/bin/sh\n"), 0o755))
	t.Setenv("PATH", dir)

	var log bytes.Buffer
	path, err := kubectlOrSkip("kubectl", false, &log)
	require.NoError(t, err)
	require.Equal(t, kubectl, path, "kubectl is found on PATH")
	require.Empty(t, log.String())

	t.Setenv("PATH", t.TempDir())
	path, err = kubectlOrSkip("kubectl", false, &log)
	require.NoError(t, err, "no kubectl on a fresh machine: the bench goes on without it")
	require.Empty(t, path)
	require.Contains(t, log.String(), "SKIPPED: the kubectl scenarios")

	_, err = kubectlOrSkip(filepath.Join(dir, "missing"), true, &log)
	require.Error(t, err, "a -kubectl that names no binary is an error")

	path, err = kubectlOrSkip("", false, &log)
	require.NoError(t, err)
	require.Empty(t, path, "-kubectl '' skips the scenarios")
}

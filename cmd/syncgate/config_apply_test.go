package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestApplyServiceAccountSetting(t *testing.T) {
	env := map[string]string{"CONFIG_REPO": "https://git.example.com/c.git", "CLUSTER_NAME": "c1", "MANAGED_NAMESPACES": "a"}
	c, err := parseWith(t, env)
	require.NoError(t, err)
	require.Equal(t, "syncgate", c.ApplyServiceAccount, "confined by default")

	env["APPLY_SERVICE_ACCOUNT"] = "deployer"
	c, err = parseWith(t, env)
	require.NoError(t, err)
	require.Equal(t, "deployer", c.ApplyServiceAccount)

	c, err = parseWith(t, env, "--apply-service-account=")
	require.NoError(t, err)
	require.Empty(t, c.ApplyServiceAccount, "an empty value applies as syncgate itself")

	env["APPLY_SERVICE_ACCOUNT"] = "system:serviceaccount:a:x"
	_, err = parseWith(t, env)
	require.EqualError(t, err, `invalid setting APPLY_SERVICE_ACCOUNT (--apply-service-account): "system:serviceaccount:a:x" is not a valid ServiceAccount name`)
}

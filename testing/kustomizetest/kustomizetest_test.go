package kustomizetest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/kustomizetest"
)

func TestBuildDeployBase(t *testing.T) {
	objs := kustomizetest.Build(t, "deploy/base")
	kinds := map[string]bool{}
	for _, o := range objs {
		kinds[o.GetKind()] = true
	}
	require.True(t, kinds["Deployment"], "the agent's Deployment: %v", kinds)
	require.True(t, kinds["CustomResourceDefinition"], "the Version CRD: %v", kinds)
}

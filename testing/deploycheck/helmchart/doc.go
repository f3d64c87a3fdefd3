// Package helmchart checks deploy/chart/syncgate with the Helm Go SDK:
// it renders and lints the chart, shows its schema refusing bad values,
// keeps it equal to deploy/base, installs it on the local control plane
// with the RBAC that confines each managed namespace, and runs syncgate
// through a sync with the chart's ServiceAccounts. It lives in the
// deploycheck module so that Helm stays out of syncgate's go.mod.
package helmchart

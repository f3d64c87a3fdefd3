// Package provider picks the commit-status reporter for the config repo:
// GitHub or GitLab, from STATUS_PROVIDER, the repo's host or the API URL
// configured, with the credentials given, or none with a reason to log.
package provider

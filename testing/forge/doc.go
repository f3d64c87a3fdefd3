// Package forge fakes the commit-status parts of GitHub's and GitLab's REST
// APIs with httptest servers that follow the documented requests, responses,
// status codes and headers (rate limits, Retry-After, 401/404/422/429),
// with fault injection and a record of every call.
package forge

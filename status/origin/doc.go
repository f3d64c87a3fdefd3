// Package origin reads the application commits a config commit deploys
// (Syncgate-Origin: <repo URL or owner/name>@<sha> trailers) and reports
// each transition to them too: the same commit status and deployment, on
// the forge that holds each repository, with that forge's credentials. A
// repository syncgate may not write to is refused once per process.
package origin

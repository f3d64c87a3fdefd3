// Package s3marker writes the S3 objects CI pipelines poll: per-Deployment
// markers at <prefix>/<cluster>/<namespace>/<deployment>/<sha> (full and
// short sha, body the UTC time) when a commit is deployed, as the original
// git-sync-operator did, and one _result/<sha>.json for every final state.
package s3marker

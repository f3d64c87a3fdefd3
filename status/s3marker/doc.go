// Package s3marker writes the S3 objects CI pipelines poll: when a commit is
// deployed, one marker per Deployment at
// <prefix>/<cluster>/<namespace>/<deployment>/<sha> (full and 7-character
// sha, body the UTC finish time in RFC 3339), as the original
// git-sync-operator did, and for every final state one
// <prefix>/<cluster>/<namespace>/_result/<sha>.json. It also reads result
// objects back for `syncgate wait --s3`.
package s3marker

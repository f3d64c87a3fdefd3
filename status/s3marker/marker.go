package s3marker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
)

// API is the part of the S3 client the reporter uses; *s3.Client is one.
type API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Options say where markers go and how to reach S3.
type Options struct {
	// Bucket receives the objects (required by New).
	Bucket string
	// Prefix is put before every key; empty means keys start at the cluster.
	Prefix string
	// Cluster is the CLUSTER_NAME in every key; when empty, each update's
	// own Cluster is used.
	Cluster string
	// Endpoint is an S3-compatible server's URL for NewClient; it turns on
	// path-style addressing. Empty means AWS.
	Endpoint string
	// Region for NewClient; empty means the SDK's (AWS_REGION, profile),
	// else us-east-1.
	Region string
	// Logger takes the SDK's own log lines for NewClient (a WARN when
	// instance metadata falls back to IMDSv1); nil leaves the SDK's
	// default, stderr.
	Logger logging.Logger
}

// Reporter writes markers and result objects.
type Reporter struct {
	api  API
	opts Options
}

var _ status.Reporter = (*Reporter)(nil)

// New checks the options.
func New(api API, opts Options) (*Reporter, error) {
	if api == nil {
		return nil, errors.New("s3marker: an S3 client is required")
	}
	if opts.Bucket == "" {
		return nil, errors.New("s3marker: a bucket is required (S3_BUCKET)")
	}
	opts.Prefix = strings.Trim(opts.Prefix, "/")
	return &Reporter{api: api, opts: opts}, nil
}

// Name of the sink.
func (r *Reporter) Name() string { return "s3" }

// Result is the body of _result/<sha>.json. State is the commit's own
// state; for a superseded commit, Outcome is what its carrier did.
type Result struct {
	SHA         string       `json:"sha"`
	State       status.State `json:"state"`
	Reason      string       `json:"reason"`
	Cluster     string       `json:"cluster"`
	Namespace   string       `json:"namespace"`
	AppliedAt   *time.Time   `json:"appliedAt"`
	FinishedAt  *time.Time   `json:"finishedAt"`
	Deployments []string     `json:"deployments"`
	CarriedBy   string       `json:"carriedBy"`
	Outcome     status.State `json:"outcome"`
}

// Effective is what CI acts on: a superseded commit's carrier outcome.
func (r Result) Effective() status.State {
	if r.State == status.Superseded {
		return r.Outcome
	}
	return r.State
}

// join builds a key from non-empty parts, so an empty prefix leaves no
// leading slash.
func join(parts ...string) string {
	kept := parts[:0:0]
	for _, p := range parts {
		if p = strings.Trim(p, "/"); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "/")
}

// ResultKey is the key of a commit's result object.
func ResultKey(prefix, cluster, namespace, sha string) string {
	return join(prefix, cluster, namespace, "_result", sha+".json")
}

// MarkerKey is the key of one Deployment's marker.
func MarkerKey(prefix, cluster, namespace, deployment, sha string) string {
	return join(prefix, cluster, namespace, deployment, sha)
}

// Report writes nothing for non-final updates. For a final one it writes
// the markers (when the commit, or the commit that carried it, deployed)
// and then the result object, unless the result object already holds the
// same content, or the same with the whole reason u's was cut from: the
// result goes last, so its presence means the markers are there too, and a
// replay after a crash writes nothing different nor shortens the reason.
func (r *Reporter) Report(ctx context.Context, u status.Update) error {
	if !u.State.Terminal() {
		return nil
	}
	if u.Held() {
		return nil // written once the carrier's outcome is known
	}
	cluster, err := status.ClusterOf(r.opts.Cluster, u)
	if err != nil {
		return err
	}
	finished := u.FinishedAt.UTC().Truncate(time.Second)
	if u.FinishedAt.IsZero() { // the syncer always sets it; a guess beats no marker
		finished = time.Now().UTC().Truncate(time.Second)
	}
	res := Result{SHA: u.SHA, State: u.State, Reason: u.Reason, Cluster: cluster, Namespace: u.Namespace,
		FinishedAt: &finished, Deployments: append([]string{}, u.Deployments...), CarriedBy: u.CarriedBy, Outcome: u.Outcome}
	if !u.AppliedAt.IsZero() {
		applied := u.AppliedAt.UTC().Truncate(time.Second)
		res.AppliedAt = &applied
	}
	body, err := encode(res)
	if err != nil {
		return status.Permanent(fmt.Errorf("encode result of %s: %w", u.SHA, err))
	}
	key := ResultKey(r.opts.Prefix, cluster, u.Namespace, u.SHA)
	old, err := Read(ctx, r.api, r.opts.Bucket, key)
	switch {
	case err == nil && (bytes.Equal(old, body) || holdsWhole(old, res)):
		return nil
	case err != nil && !errors.Is(err, ErrNotFound) && !isAccessDenied(err):
		// AccessDenied may be a missing object (see Read); the write
		// below tells whether access is really denied.
		return err
	}
	if u.Effective() == status.Deployed {
		stamp := []byte(finished.Format(time.RFC3339))
		for _, d := range u.Deployments {
			for _, sha := range []string{u.SHA, status.ShortSHA(u.SHA)} {
				if err := r.put(ctx, MarkerKey(r.opts.Prefix, cluster, u.Namespace, d, sha), stamp, "text/plain; charset=utf-8"); err != nil {
					return err
				}
			}
		}
	}
	return r.put(ctx, key, body, "application/json")
}

func encode(res Result) ([]byte, error) {
	body, err := json.MarshalIndent(res, "", "  ")
	return append(body, '\n'), err
}

// holdsWhole reports whether the stored result is res with the whole reason
// res's bounded one was cut from: a replay by a process that never saw the
// whole reason (after a restart, on a new leader) leaves it in place.
func holdsWhole(stored []byte, res Result) bool {
	var old Result
	if json.Unmarshal(stored, &old) != nil || !lifecycle.BoundFrom(res.Reason, old.Reason) {
		return false
	}
	res.Reason = old.Reason
	body, err := encode(res)
	return err == nil && bytes.Equal(stored, body)
}

// put writes a private object: no ACL is sent, so the bucket's default
// (owner only) applies, and buckets that refuse ACLs accept it.
func (r *Reporter) put(ctx context.Context, key string, body []byte, contentType string) error {
	_, err := r.api.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(r.opts.Bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType: aws.String(contentType), ContentLength: aws.Int64(int64(len(body))),
	})
	if err != nil {
		return classify(fmt.Errorf("put s3://%s/%s: %w", r.opts.Bucket, key, err))
	}
	return nil
}

// ErrNotFound is returned by Read and ReadResult when there is no such object.
var ErrNotFound = errors.New("no such object")

// Read fetches one object's body. A refusal no retry fixes (no such
// bucket, unknown or wrong credentials) is marked status.Permanent, saying
// what to fix. AccessDenied is not: without s3:ListBucket, S3 answers it
// for a missing object too.
func Read(ctx context.Context, api API, bucket, key string) ([]byte, error) {
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var nk *types.NoSuchKey
		if errors.As(err, &nk) {
			return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, ErrNotFound)
		}
		err = fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
		if isAccessDenied(err) {
			return nil, err
		}
		return nil, classify(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	return b, nil
}

// ErrBadResult is returned by ReadResult for an object that is not a result.
var ErrBadResult = errors.New("not a syncgate result")

// ReadResult fetches and decodes a result object; ErrNotFound when the
// commit has no result yet, ErrBadResult when the object does not decode,
// Read's errors otherwise.
func ReadResult(ctx context.Context, api API, bucket, key string) (Result, error) {
	b, err := Read(ctx, api, bucket, key)
	if err != nil {
		return Result{}, err
	}
	var res Result
	if err := json.Unmarshal(b, &res); err != nil {
		return Result{}, fmt.Errorf("s3://%s/%s: %w: %w", bucket, key, ErrBadResult, err)
	}
	return res, nil
}

// classify marks refusals no retry fixes as permanent, saying what to fix.
func classify(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.ErrorCode() {
	case "NoSuchBucket":
		return status.Permanent(fmt.Errorf("%w (check S3_BUCKET: the bucket does not exist)", err))
	case "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch",
		"XAdminUserNotFound": // versitygw's answer to an unknown access key
		return status.Permanent(fmt.Errorf("%w (check the AWS credentials and that they may s3:GetObject and s3:PutObject in the bucket)", err))
	case "InvalidBucketName":
		return status.Permanent(fmt.Errorf("%w (check S3_BUCKET)", err))
	case "PermanentRedirect", "AuthorizationHeaderMalformed": // signed for a region not the bucket's
		return status.Permanent(fmt.Errorf("%w (check AWS_REGION: it is not the bucket's region)", err))
	}
	return err
}

func isAccessDenied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "AccessDenied"
}

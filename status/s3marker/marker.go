package s3marker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/syncgate/syncgate/status"
)

// API is the part of the S3 client the reporter uses.
type API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Options configure a Reporter.
type Options struct {
	Bucket string
	Prefix string
}

// Reporter writes markers and result objects.
type Reporter struct {
	api  API
	opts Options
}

// New checks the options.
func New(api API, opts Options) (*Reporter, error) {
	if api == nil || opts.Bucket == "" {
		return nil, errors.New("s3marker: a client and a bucket are required")
	}
	return &Reporter{api: api, opts: opts}, nil
}

// NewClient builds an S3 client from the SDK's default credential chain
// (environment, web identity / IRSA, profile); with an endpoint, path-style
// addressing for S3-compatible servers.
func NewClient(ctx context.Context, endpoint, region string) (*s3.Client, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	}), nil
}

// Name of the sink.
func (r *Reporter) Name() string { return "s3" }

// Result is the body of _result/<sha>.json.
type Result struct {
	SHA         string       `json:"sha"`
	State       status.State `json:"state"`
	Reason      string       `json:"reason,omitempty"`
	Cluster     string       `json:"cluster"`
	Namespace   string       `json:"namespace"`
	AppliedAt   *time.Time   `json:"appliedAt,omitempty"`
	FinishedAt  *time.Time   `json:"finishedAt,omitempty"`
	Deployments []string     `json:"deployments"`
	CarriedBy   string       `json:"carriedBy,omitempty"`
	Outcome     status.State `json:"outcome,omitempty"`
}

// Effective is what CI acts on: a superseded commit's carrier outcome.
func (r Result) Effective() status.State {
	if r.State == status.Superseded {
		return r.Outcome
	}
	return r.State
}

// ResultKey is the key of a commit's result object.
func ResultKey(prefix, cluster, namespace, sha string) string {
	return path.Join(prefix, cluster, namespace, "_result", sha+".json")
}

// MarkerKey is the key of one Deployment's marker.
func MarkerKey(prefix, cluster, namespace, deployment, sha string) string {
	return path.Join(prefix, cluster, namespace, deployment, sha)
}

// Report writes nothing until a commit is final; then the markers (when it
// is deployed) and the result object, skipping a result already written
// with the same content.
func (r *Reporter) Report(ctx context.Context, u status.Update) error {
	if !u.State.Terminal() || (u.State == status.Superseded && u.Outcome == "") {
		return nil
	}
	res := Result{SHA: u.SHA, State: u.State, Reason: u.Reason, Cluster: u.Cluster, Namespace: u.Namespace,
		Deployments: u.Deployments, CarriedBy: u.CarriedBy, Outcome: u.Outcome}
	if res.Deployments == nil {
		res.Deployments = []string{}
	}
	if !u.AppliedAt.IsZero() {
		t := u.AppliedAt.UTC()
		res.AppliedAt = &t
	}
	finished := u.FinishedAt.UTC()
	if !u.FinishedAt.IsZero() {
		res.FinishedAt = &finished
	}
	body, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return status.Permanent(err)
	}
	key := ResultKey(r.opts.Prefix, u.Cluster, u.Namespace, u.SHA)
	if old, err := r.get(ctx, key); err == nil && bytes.Equal(old, body) {
		return nil
	}
	if u.Effective() == status.Deployed {
		stamp := []byte(finished.Format(time.RFC3339))
		for _, d := range u.Deployments {
			for _, sha := range []string{u.SHA, u.SHA[:min(7, len(u.SHA))]} {
				if err := r.put(ctx, MarkerKey(r.opts.Prefix, u.Cluster, u.Namespace, d, sha), stamp, "text/plain"); err != nil {
					return err
				}
			}
		}
	}
	return r.put(ctx, key, body, "application/json")
}

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

func (r *Reporter) get(ctx context.Context, key string) ([]byte, error) {
	return Read(ctx, r.api, r.opts.Bucket, key)
}

// Read fetches one object's body.
func Read(ctx context.Context, api API, bucket, key string) ([]byte, error) {
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// classify marks refusals no retry fixes.
func classify(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDenied", "NoSuchBucket", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidBucketName":
			return status.Permanent(fmt.Errorf("%w (check S3_BUCKET and the AWS credentials)", err))
		}
	}
	return err
}
